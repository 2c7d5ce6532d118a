"""Start-up validation of every setting: each problem names its key and the valid values.

:func:`validate_settings` runs on the filled ``app.config`` before anything is built from it
and raises one :class:`ConfigurationError` listing **every** problem found, e.g.::

    invalid settings:
      - EVENTBUS_OUTBOX: must be true, false or "auto", got 'no'
      - EVENTBUS_OUTBOX_RELAY: must be one of "thread", "none", got 'threads'

Values from the environment are parsed as JSON (``FLASK_EVENTBUS_OUTBOX=false``), so a word
that is not JSON arrives as a string: a boolean setting given ``no`` is refused, never read
as true. Each key of :data:`app.config.SETTINGS` has its check in :data:`CHECKS`; a key the
table does not know is left alone (extensions' own settings). Route patterns are checked
against the mounted handlers later, by :func:`route_problems`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from app.core.events.exceptions import ConfigurationError

from .config_urls import database_url_problem, redis_url
from .config_values import (
    boolean,
    integer,
    integer_list,
    mapping,
    one_of,
    optional_names,
    package,
    shown,
    text,
)

__all__ = [
    "CHECKS",
    "Check",
    "route_problems",
    "settings_problems",
    "validate_routes",
    "validate_settings",
]

Check = Callable[[Any], str | None]
"""A setting's check: the problem with a value (``"must be …, got …"``), or ``None``."""

SECOND_MS = 1_000
DAY_MS = 86_400 * SECOND_MS
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TRANSPORTS = ("inprocess", "redis-streams", "rq")


def _log_level(value: Any) -> str | None:
    if isinstance(value, str) and value.upper() in LOG_LEVELS:
        return None
    return one_of(*LOG_LEVELS)(value)


CHECKS: dict[str, Check] = {
    "EVENTBUS_TRANSPORT": one_of(*TRANSPORTS),
    "EVENTBUS_ROUTES": mapping(text(pattern=True), one_of(*TRANSPORTS), "handler-id pattern"),
    "EVENTBUS_REDIS_URL": redis_url,
    "EVENTBUS_KEY_PREFIX": text(),
    "EVENTBUS_STREAMS_KEY_LAYOUT": one_of("flat", "hash-tagged", "auto"),
    "EVENTBUS_STRICT": boolean,
    "EVENTBUS_RAISE_HANDLER_ERRORS": boolean,
    "EVENTBUS_VALIDATE_PAYLOADS": boolean,
    "EVENTBUS_MAX_PAYLOAD_BYTES": integer(1, 512 * 1024 * 1024),
    "EVENTBUS_MAX_JSON_DEPTH": integer(1, 64),
    "EVENTBUS_LOG_FULL_ERRORS": boolean,
    "EVENTBUS_MAX_DELIVERIES": integer(1, 1_000),
    "EVENTBUS_STREAM_MAXLEN": integer(0, 10**12, optional=True),
    "EVENTBUS_CLAIM_IDLE_MS": integer(1, 7 * DAY_MS),
    "EVENTBUS_BLOCK_MS": integer(1, DAY_MS),
    "EVENTBUS_BATCH_SIZE": integer(1, 100_000),
    "EVENTBUS_RETRY_BACKOFF_MS": integer(1, DAY_MS),
    "EVENTBUS_STREAM_MAX_AGE_MS": integer(0, 3_650 * DAY_MS, optional=True),
    "EVENTBUS_MAINTENANCE_INTERVAL_MS": integer(1, DAY_MS),
    "EVENTBUS_CONSUMER_EXPIRY_MS": integer(1, 365 * DAY_MS),
    "EVENTBUS_RQ_QUEUE": text(),
    "EVENTBUS_RQ_QUEUES": mapping(text(), text(), "module name"),
    "EVENTBUS_RQ_RESULT_TTL": integer(0, 10**9),
    "EVENTBUS_RQ_RETRY_INTERVALS": integer_list(0, 10**7),
    "EVENTBUS_RQ_JOB_TIMEOUT": integer(1, 10**7),
    "EVENTBUS_RQ_DEDUP_TTL": integer(0, 10**9),
    "EVENTBUS_IDLE_WORKER": one_of("refuse", "warn"),
    "EVENTBUS_OUTBOX": one_of(True, False, "auto"),
    "EVENTBUS_OUTBOX_RELAY": one_of("thread", "none"),
    "EVENTBUS_OUTBOX_BATCH_SIZE": integer(1, 100_000),
    "EVENTBUS_OUTBOX_POLL_MS": integer(1, DAY_MS),
    "EVENTBUS_OUTBOX_LEASE_MS": integer(1, DAY_MS),
    "EVENTBUS_OUTBOX_RETENTION_S": integer(0, 3_650 * 86_400),
    "EVENTBUS_METRICS": boolean,
    "EVENTBUS_TRACING": boolean,
    "EVENTBUS_METRICS_PATH": text(path=True),
    "EVENTBUS_DASHBOARD": boolean,
    "EVENTBUS_DASHBOARD_PREFIX": text(path=True),
    "ENABLED_MODULES": optional_names,
    "MODULES_PACKAGE": package,
    "DATABASE_URL": text(optional=True),
    "DATABASE_SCHEMA_CHECK": boolean,
    "EVENTBUS_HEALTH_MAX_OUTBOX_AGE_S": integer(0, 10**9),
    "EVENTBUS_HEARTBEAT_S": integer(1, 3_600),
    "LOG_LEVEL": _log_level,
    "LOG_FORMAT": one_of("json", "console", "auto"),
}


def settings_problems(config: Mapping[str, Any]) -> list[str]:
    """Every problem of ``config``, as ``"KEY: problem"`` lines, in the order of :data:`CHECKS`."""
    problems = []
    for key, check in CHECKS.items():
        if key not in config:
            continue
        problem = check(config[key])
        if problem is not None:
            problems.append(f"{key}: {problem}")
    uri = config.get("SQLALCHEMY_DATABASE_URI")
    if isinstance(uri, str) and not any(p.startswith("DATABASE_URL") for p in problems):
        problem = database_url_problem(uri)
        if problem is not None:
            problems.append(f"{_database_key(config, uri)}: {problem}")
    return problems


def _database_key(config: Mapping[str, Any], uri: str) -> str:
    """``DATABASE_URL`` when the URI was made from it (scheme normalised), else the URI's key."""
    given = config.get("DATABASE_URL")
    rest = uri.partition("://")[2]
    same = given == uri or (isinstance(given, str) and bool(rest) and given.endswith("://" + rest))
    return "DATABASE_URL" if same else "SQLALCHEMY_DATABASE_URI"


def validate_settings(config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigurationError` listing every problem of ``config``, if any."""
    _raise_if(settings_problems(config))


def route_problems(routes: Mapping[str, str], handler_ids: Iterable[str]) -> list[str]:
    """A problem for each ``EVENTBUS_ROUTES`` pattern that matches none of ``handler_ids``
    (a typo would otherwise leave its handlers on the default transport, silently)."""
    known = sorted(set(handler_ids))
    problems = []
    for pattern in routes:
        if not any(fnmatchcase(handler_id, pattern) for handler_id in known):
            listed = ", ".join(known[:8]) + (", …" if len(known) > 8 else "")
            problems.append(
                f"EVENTBUS_ROUTES: the pattern {shown(pattern)} matches no handler "
                f"(handler ids: {listed or 'none'}; `flask --app wsgi events list` shows them)"
            )
    return problems


def validate_routes(routes: Mapping[str, str], handler_ids: Iterable[str]) -> None:
    """Raise :class:`ConfigurationError` if a route pattern matches no handler."""
    _raise_if(route_problems(routes, handler_ids))


def _raise_if(problems: list[str]) -> None:
    if problems:
        raise ConfigurationError("invalid settings:\n  - " + "\n  - ".join(problems))
