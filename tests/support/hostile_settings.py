"""Hypothesis strategies of hostile setting values, shared by the in-process settings fuzz and
the one that runs real ``flask`` commands.

Every URL-ish value carries :data:`MARKER` in its password: no message may ever contain it.
Hosts are loopback and ports are ones nothing valid listens on (``:1``, or unparseable), so a
value that passes the checks never reaches a real Redis or PostgreSQL; there is no ``sqlite``
scheme (a relative SQLite path would create a file under the app's ``instance/``).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

__all__ = ["MARKER", "env_texts", "python_values", "url_like"]

MARKER = "pw-Marker-93xq"
"""The password in every URL-ish value; found in a message, it is a leak."""

SCHEMES = (
    "redis",
    "rediss",
    "unix",
    "redis+sentinel",
    "redis+cluster",
    "postgresql",
    "postgres",
    "postgresql+psycopg",
    "postgresql+pg8000",
    "mysql",
    "http",
    "",
)
HOSTS = ("127.0.0.1", "localhost", "", "[::1]", "[::1", "[x]", "h@st", "127.0.0.1@x")
PORTS = (":1", ":0", ":abc", ":65536", ":", ":-1", ":99999999999999999999")
PATHS = ("", "/", "/0", "/abc", "/-1", "/99999999999999999999", "/0/extra")
QUERIES = ("", "?db=x", "?db=1", f"?password={MARKER}", "?%zz", "#frag")
SEPARATORS = ("://", ":/", "//", ":")

url_like = st.builds(
    lambda scheme, sep, user, tail, host, port, path, query: (
        f"{scheme}{sep}{user}:{MARKER}{tail}@{host}{port}{path}{query}"
    ),
    st.sampled_from(SCHEMES),
    st.sampled_from(SEPARATORS),
    st.sampled_from(("", "u", "us:er", "ü")),
    st.sampled_from(("", "@x", "%40", "%", ":more", "/x", "?")),
    st.sampled_from(HOSTS),
    st.sampled_from(PORTS),
    st.sampled_from(PATHS),
    st.sampled_from(QUERIES),
)
"""Redis- and database-looking URLs, mostly malformed, with :data:`MARKER` as password."""

_numbers_as_text = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(("NaN", "Infinity", "-Infinity", "1e999", "-0", "1.5", "0x10", "1_000")),
)
_plain_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=40,
)
_controls = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=31), min_size=1)


def _texts(surrogates: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(""),
        st.text(alphabet=" \t\n\r\x0b\x0c\u00a0\u2028", min_size=1, max_size=5),
        _plain_text,
        _controls,
        _numbers_as_text,
        surrogates,
        url_like,
        st.sampled_from(
            ("rq", "redis-streams", "thread", "none", "auto", "true", "warn", "/", "/x", "/<x")
        ),
    )


_any_surrogate = st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))
# os.environ encodes with surrogateescape: only U+DC80-U+DCFF can be set directly; others come
# through JSON escapes (env_texts).
_env_surrogate = st.text(alphabet=st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF))

python_texts = _texts(_any_surrogate)
_scalars = st.one_of(
    python_texts,
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
python_values: st.SearchStrategy[Any] = st.one_of(
    _scalars,
    st.lists(_scalars, max_size=4),
    st.dictionaries(python_texts, _scalars, max_size=3),
    st.sampled_from(({"notifications.*": "rq"}, {"billing": "q"}, ["billing"], [1, 5])),
)
"""Values a ``create_app(config)`` mapping may hold: any type, any text."""

env_texts = st.one_of(
    _texts(_env_surrogate),
    python_values.map(json.dumps),  # JSON: NaN, Infinity, "\\ud800" escapes, nested values
)
"""Text for a ``FLASK_<KEY>`` environment variable (parsed as JSON when it parses)."""
