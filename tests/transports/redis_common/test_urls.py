"""mask_url hides every password form users paste, the malformed ones included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transports.redis_common import mask_url

PW = "S3cr3tPW"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:secret@h:6379/0", "redis://:***@h:6379/0"),
        ("rediss://user:secret@h/1", "rediss://user:***@h/1"),
        ("redis://h:6379/0", "redis://h:6379/0"),
        ("unix://:secret@/run/redis.sock?db=2", "unix://:***@/run/redis.sock?db=2"),
        ("redis://127.0.0.1:6379/0?socket_timeout=5", "redis://127.0.0.1:6379/0?socket_timeout=5"),
        # the malformed forms of issue #11
        (f"redis//:{PW}@host", "redis//:***@host"),
        (f"redis://host?password={PW}", "redis://host?password=***"),
        (f"redis://:p@ss{PW}@host", "redis://:***@host"),
        # more of the same family
        (f"redis://{PW}@host:6379", "redis://***@host:6379"),
        (f"redis:{PW}@host", "redis:***@host"),
        (f"{PW}@host", "***@host"),
        (f"redis://:p/w{PW}@host/0", "redis://:***@host/0"),
        (f"redis://host/0?db=1&PassWord={PW}&x=1", "redis://host/0?db=1&PassWord=***&x=1"),
        (
            f"redis+sentinel://:{PW}@h1:26379,h2:26379/mymaster/0?sentinel_password={PW}",
            "redis+sentinel://:***@h1:26379,h2:26379/mymaster/0?sentinel_password=***",
        ),
        (f"redis+cluster://u:{PW}@h1:7000,h2:7001", "redis+cluster://u:***@h1:7000,h2:7001"),
        ("", ""),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@settings(max_examples=150, deadline=None)
@given(
    scheme=st.sampled_from(["redis://", "rediss://", "redis//", "redis:", "", "redis+sentinel://"]),
    user=st.text(alphabet="abcxyz_", max_size=5),
    password=st.text(alphabet="abcdefgXYZ0123456789!$%^*()-_=+[]{}|;,.~@:/", min_size=1).map(
        lambda text: f"PW{text}"
    ),
    host=st.sampled_from(["host", "127.0.0.1:6379", "h1:26379,h2:26379"]),
    path=st.sampled_from(["", "/0", "/mymaster/1"]),
)
def test_a_password_in_the_user_information_never_shows(
    scheme: str, user: str, password: str, host: str, path: str
) -> None:
    masked = mask_url(f"{scheme}{user}:{password}@{host}{path}")
    assert password not in masked and masked.endswith(f"@{host}{path}")


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(["password", "sentinel_password", "PASS", "pwd", "auth_token"]),
    value=st.text(alphabet="abcXYZ0123456789!$%*()-_+.~:/@", min_size=1).map(lambda t: f"PW{t}"),
)
def test_a_secret_query_parameter_never_shows(name: str, value: str) -> None:
    masked = mask_url(f"redis://host:6379/0?db=0&{name}={value}&ssl_cert_reqs=none")
    assert value not in masked and masked.endswith("&ssl_cert_reqs=none")
