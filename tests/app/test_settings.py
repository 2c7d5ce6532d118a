"""Every setting is checked at start-up; all problems come at once, each naming its key and
what is valid. Before these checks, ``FLASK_EVENTBUS_OUTBOX=no`` was read as true,
``EVENTBUS_OUTBOX_RELAY=threads`` silently turned the relay off, ``redis://host/abc`` meant
database 0, and a route pattern matching no handler (or an empty one) was accepted."""

from __future__ import annotations

from typing import Any

import pytest

from app import create_app
from app.config import SETTINGS
from app.config_checks import CHECKS, settings_problems
from app.core.events import ConfigurationError

CLINIC = {"TESTING": True}
"""The clinic's modules on the suite's in-memory database."""

BAD_VALUES: list[tuple[str, Any, str]] = [
    ("EVENTBUS_TRANSPORT", "kafka", 'must be one of "inprocess", "redis-streams", "rq"'),
    ("EVENTBUS_TRANSPORT", "", 'must be one of "inprocess"'),
    ("EVENTBUS_ROUTES", ["notifications.*"], "must be a JSON object"),
    ("EVENTBUS_ROUTES", {"notifications.*": "sqs"}, "['notifications.*'] must be one of"),
    ("EVENTBUS_ROUTES", {"": "rq"}, "a handler-id pattern must be a non-empty string, got ''"),
    ("EVENTBUS_ROUTES", {" notifications.*": "rq"}, "must not start or end with spaces"),
    ("EVENTBUS_REDIS_URL", "redis://host/abc", "database (the path) that is not a number"),
    ("EVENTBUS_REDIS_URL", "redis//:PW@host", "must start with redis://, rediss:// or unix://"),
    ("EVENTBUS_REDIS_URL", "redis://:p@ss@host", "percent-encode it as %40"),
    ("EVENTBUS_REDIS_URL", "redis://host:63x9/0", "port that is not a number"),
    ("EVENTBUS_REDIS_URL", "http://host:6379/0", "has the scheme 'http'"),
    ("EVENTBUS_REDIS_URL", "redis://host/0?db=x", "db= query parameter that is not a number"),
    ("EVENTBUS_REDIS_URL", 6379, "must be a Redis URL"),
    ("EVENTBUS_REDIS_URL", "redis://[::1/0", "is not a URL that can be parsed"),  # ValueError
    ("EVENTBUS_REDIS_URL", "redis://[x]:1/0", "is not a URL that can be parsed"),
    ("EVENTBUS_KEY_PREFIX", " ", "must be a non-empty string"),
    ("EVENTBUS_KEY_PREFIX", "\udc80", "must be printable text"),  # redis-py cannot encode it
    ("EVENTBUS_KEY_PREFIX", "a\nb", "must be printable text (no control characters)"),
    ("EVENTBUS_STREAMS_KEY_LAYOUT", "tagged", 'must be one of "flat", "hash-tagged", "auto"'),
    ("EVENTBUS_STRICT", "no", "must be true or false, got 'no'"),
    ("EVENTBUS_STRICT", 1, "must be true or false, got 1"),
    ("EVENTBUS_RAISE_HANDLER_ERRORS", "yes", "must be true or false"),
    ("EVENTBUS_VALIDATE_PAYLOADS", "off", "must be true or false"),
    ("EVENTBUS_MAX_PAYLOAD_BYTES", 0, "must be an integer from 1 to"),
    ("EVENTBUS_MAX_PAYLOAD_BYTES", "64k", "must be an integer from 1 to"),
    ("EVENTBUS_MAX_DELIVERIES", 0, "must be an integer from 1 to 1000, got 0"),
    ("EVENTBUS_MAX_DELIVERIES", True, "got True"),
    ("EVENTBUS_STREAM_MAXLEN", -1, "or null, got -1"),
    ("EVENTBUS_CLAIM_IDLE_MS", 0, "must be an integer from 1"),
    ("EVENTBUS_BLOCK_MS", 2.5, "got 2.5"),
    ("EVENTBUS_BATCH_SIZE", 10**6, "must be an integer from 1 to 100000"),
    ("EVENTBUS_RETRY_BACKOFF_MS", -5, "got -5"),
    ("EVENTBUS_STREAM_MAX_AGE_MS", "1h", "or null"),
    ("EVENTBUS_MAINTENANCE_INTERVAL_MS", 0, "from 1"),
    ("EVENTBUS_CONSUMER_EXPIRY_MS", None, "got None"),
    ("EVENTBUS_RQ_QUEUE", "", "must be a non-empty string"),
    ("EVENTBUS_RQ_QUEUES", {"billing": ""}, "['billing'] must be a non-empty string"),
    ("EVENTBUS_RQ_RESULT_TTL", -1, "from 0"),
    ("EVENTBUS_RQ_RETRY_INTERVALS", [], "non-empty list of integers"),
    ("EVENTBUS_RQ_RETRY_INTERVALS", [1, "5"], "non-empty list of integers"),
    ("EVENTBUS_RQ_JOB_TIMEOUT", 0, "from 1"),
    ("EVENTBUS_RQ_DEDUP_TTL", "1h", "from 0"),
    ("EVENTBUS_IDLE_WORKER", "ignore", 'must be one of "refuse", "warn"'),
    ("EVENTBUS_OUTBOX", "no", "must be one of true, false, \"auto\", got 'no'"),
    ("EVENTBUS_OUTBOX", 1, "got 1"),
    ("EVENTBUS_OUTBOX_RELAY", "threads", 'must be one of "thread", "none", got \'threads\''),
    ("EVENTBUS_OUTBOX_BATCH_SIZE", 0, "from 1"),
    ("EVENTBUS_OUTBOX_POLL_MS", 0, "from 1"),
    ("EVENTBUS_OUTBOX_LEASE_MS", -1, "from 1"),
    ("EVENTBUS_OUTBOX_RETENTION_S", -1, "from 0"),
    ("EVENTBUS_METRICS", "on", "must be true or false"),
    ("EVENTBUS_TRACING", "on", "must be true or false"),
    ("EVENTBUS_METRICS_PATH", "metrics", "must be a URL path starting with '/'"),
    ("EVENTBUS_METRICS_PATH", "/<x", "(no spaces, '<' or '>')"),  # Flask: a ValueError
    ("EVENTBUS_DASHBOARD", "true ", "must be true or false"),
    ("EVENTBUS_DASHBOARD_PREFIX", "", "must be a non-empty string"),
    ("EVENTBUS_DASHBOARD_PREFIX", "/<int:x>", "(no spaces, '<' or '>')"),
    ("ENABLED_MODULES", "billing", "must be null or a list of module names"),
    ("ENABLED_MODULES", ["bill\ning"], "must be null or a list of module names"),
    ("EVENTBUS_RQ_QUEUE", "a\nb", "must be printable text"),
    ("MODULES_PACKAGE", "", "must be a dotted Python package name"),
    ("MODULES_PACKAGE", ".", "must be a dotted Python package name"),  # was a TypeError
    ("MODULES_PACKAGE", "os", "must name an importable Python package"),  # an AttributeError
    ("MODULES_PACKAGE", "zzz", "must name an importable Python package"),  # ModuleNotFound
    ("DATABASE_URL", True, "must be a non-empty string or null"),  # was an AttributeError
    ("DATABASE_URL", "postgresql://u@h:abc/db", "is not a database URL"),  # a ValueError
    ("DATABASE_URL", "postgresql://u:p@ss@h/db", "percent-encode it as %40"),
    ("LOG_LEVEL", "LOUD", 'must be one of "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"'),
    ("LOG_FORMAT", "text", 'must be one of "json", "console", "auto"'),
]


def test_every_setting_has_a_check() -> None:
    missing, stale = set(SETTINGS) - set(CHECKS), set(CHECKS) - set(SETTINGS)
    assert not missing, f"add a check to app/config_checks.py CHECKS for {sorted(missing)}"
    assert not stale, f"app/config_checks.py checks settings that do not exist: {sorted(stale)}"


def test_the_defaults_pass_every_check() -> None:
    assert settings_problems({key: setting.default for key, setting in SETTINGS.items()}) == []


@pytest.mark.parametrize(("key", "value", "expected"), BAD_VALUES)
def test_a_bad_value_stops_the_app_naming_the_key_and_what_is_valid(
    key: str, value: Any, expected: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        create_app({**CLINIC, key: value})
    message = str(caught.value)
    assert message.startswith("invalid settings:\n  - ")
    assert f"  - {key}: " in message
    assert expected in message


def test_every_problem_is_reported_at_once() -> None:
    bad = {key: value for key, value, _ in reversed(BAD_VALUES)}  # one bad value per key
    with pytest.raises(ConfigurationError) as caught:
        create_app({**CLINIC, **bad})
    lines = str(caught.value).splitlines()[1:]
    assert [line.split(":")[0].strip(" -") for line in lines] == [k for k in CHECKS if k in bad]


def test_a_password_in_a_bad_redis_url_is_never_repeated() -> None:
    with pytest.raises(ConfigurationError) as caught:
        create_app({**CLINIC, "EVENTBUS_REDIS_URL": "redis://:s3cret-pw@host/abc"})
    assert "s3cret-pw" not in str(caught.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("EVENTBUS_OUTBOX", "redis://:s3cret-pw@host/0"),  # a URL given to the wrong key
        ("EVENTBUS_ROUTES", {"redis://:s3cret-pw@host/0": "rq"}),
        ("EVENTBUS_RQ_QUEUES", {"billing": ["x?password=s3cret-pw"]}),
        ("DATABASE_URL", "s3cret:pw@db://host/x"),
    ],
)
def test_a_value_that_may_hold_a_password_is_never_repeated(key: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        create_app({**CLINIC, key: value})
    message = str(caught.value)
    assert f"  - {key}: " in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("variable", "text", "expected"),
    [
        ("FLASK_EVENTBUS_OUTBOX", "no", "EVENTBUS_OUTBOX: must be one of true, false"),
        ("FLASK_EVENTBUS_STRICT", "False", "EVENTBUS_STRICT: must be true or false"),
        ("FLASK_EVENTBUS_OUTBOX_RELAY", "threads", "EVENTBUS_OUTBOX_RELAY: must be one of"),
        ("FLASK_EVENTBUS_MAX_DELIVERIES", "five", "EVENTBUS_MAX_DELIVERIES: must be an int"),
    ],
)
def test_words_from_the_environment_are_not_taken_for_other_values(
    monkeypatch: pytest.MonkeyPatch, variable: str, text: str, expected: str
) -> None:
    monkeypatch.setenv(variable, text)
    with pytest.raises(ConfigurationError, match=expected):
        create_app(CLINIC)


def test_json_values_from_the_environment_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_EVENTBUS_OUTBOX", "false")
    monkeypatch.setenv("FLASK_EVENTBUS_OUTBOX_RELAY", '"none"')
    app = create_app(CLINIC)
    assert app.config["EVENTBUS_OUTBOX"] is False


def test_a_route_pattern_matching_no_handler_is_reported() -> None:
    routes = {"notification.*": "inprocess", "patient_timeline.*": "inprocess"}
    with pytest.raises(ConfigurationError) as caught:
        create_app({**CLINIC, "EVENTBUS_ROUTES": routes})
    message = str(caught.value)
    assert "EVENTBUS_ROUTES: the pattern 'notification.*' matches no handler" in message
    assert "notifications.on_patient_created" in message  # what exists
    assert "'patient_timeline.*'" not in message


def test_unknown_database_drivers_name_the_extra_to_install() -> None:
    for url, expected in [
        ("foo://host/db", "names the database 'foo', which is not supported"),
        ("postgresql+pg8000://u@host/db", "needs the 'pg8000' package"),
        ("postgresql+nosuch://u@host/db", "names the driver 'postgresql+nosuch'"),
        ("not a url", "is not a database URL"),
    ]:
        with pytest.raises(ConfigurationError) as caught:
            create_app({**CLINIC, "SQLALCHEMY_DATABASE_URI": url})
        message = str(caught.value)
        assert "SQLALCHEMY_DATABASE_URI: " in message and expected in message, message
        if "not a database URL" not in expected:
            assert "pip install 'flask-eventbus[postgres]'" in message
