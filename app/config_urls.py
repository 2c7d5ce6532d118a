"""Strict checks of the two URL settings. A problem never repeats the URL (it may hold a
password): it names the part that is wrong and shows a correct form.

- ``EVENTBUS_REDIS_URL``: ``redis://``, ``rediss://`` (TLS) or ``unix://``; for the first two
  the port is a number, the database (the path) is a number, and a password holds no
  unencoded ``@``. ``redis://host/abc`` is refused, not read as database 0. Other
  ``redis+…://`` schemes are left to the transport that reads them.
- ``DATABASE_URL``: an SQLAlchemy URL of SQLite or PostgreSQL whose driver is installed; a
  missing driver names the extra that brings it (``postgres``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from .config_values import shown

__all__ = ["database_url_problem", "redis_url"]

REDIS_EXAMPLE = "redis://[:password@]host:6379/0"
POSTGRES_EXTRA = "pip install 'flask-eventbus[postgres]'"
SUPPORTED_DATABASES = ("sqlite", "postgresql")


def redis_url(value: Any) -> str | None:
    """The problem with a Redis URL setting, or ``None``."""
    if not isinstance(value, str) or not value.strip():
        return f"must be a Redis URL such as {REDIS_EXAMPLE}"
    scheme, separator, _ = value.partition("://")
    if not separator or not scheme:
        return f"must start with redis://, rediss:// or unix:// (e.g. {REDIS_EXAMPLE})"
    if scheme.startswith(("redis+", "rediss+")):
        return None  # a variant its transport validates
    if scheme not in ("redis", "rediss", "unix"):
        return f"has the scheme {shown(scheme)}; use redis://, rediss:// or unix://"
    return _redis_parts_problem(value, scheme)


def _redis_parts_problem(value: str, scheme: str) -> str | None:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed '[' of an IPv6 address
        return f"is not a URL that can be parsed (e.g. {REDIS_EXAMPLE})"
    if scheme == "unix":
        return None if parts.path else "a unix:// URL must name the socket's path"
    return _redis_network_problem(parts)


def _redis_network_problem(parts: SplitResult) -> str | None:
    if parts.netloc.count("@") > 1:
        return "has an '@' in its user or password: percent-encode it as %40"
    try:
        port = parts.port
    except ValueError:
        return f"has a port that is not a number from 1 to 65535 (e.g. {REDIS_EXAMPLE})"
    if port == 0:
        return "has port 0; use a number from 1 to 65535"
    database = parts.path.strip("/")
    if database and not database.isdigit():
        return f"has a database (the path) that is not a number (e.g. {REDIS_EXAMPLE})"
    query_db = parse_qs(parts.query).get("db")
    if query_db and not all(item.isdigit() for item in query_db):
        return "has a db= query parameter that is not a number"
    return None


def database_url_problem(url: str) -> str | None:
    """The problem with the SQLAlchemy database URL ``url``, or ``None``."""
    if url.partition("://")[2].partition("/")[0].count("@") > 1:
        return "has an '@' in its user or password: percent-encode it as %40"
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return (
            "is not a database URL; use sqlite:///path/to/file.db or "
            "postgresql://user@host:5432/name"
        )
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DATABASES:
        return (
            f"names the database {shown(backend)}, which is not supported: use sqlite, or "
            f"postgresql with the postgres extra ({POSTGRES_EXTRA})"
        )
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        return (
            f"names the driver {shown(parsed.drivername)}, which SQLAlchemy does not know: use "
            f"sqlite or postgresql+psycopg ({POSTGRES_EXTRA})"
        )
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        return (
            f"needs the {exc.name or parsed.drivername!r} package for the "
            f"{parsed.drivername!r} driver, which is not installed; for PostgreSQL install the "
            f"postgres extra ({POSTGRES_EXTRA}) and use postgresql+psycopg"
        )
    return None
