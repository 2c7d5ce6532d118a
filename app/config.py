"""Every setting the application reads, with its default and meaning, in one mapping.

Precedence, lowest first: these defaults, ``FLASK_``-prefixed environment variables (values
parsed as JSON when they parse: ``FLASK_EVENTBUS_STRICT=false``), then the mapping passed to
``create_app(config)``. ``DATABASE_URL`` is also read unprefixed, as hosting platforms set it.
The README's configuration table lists the same keys; a test keeps the two in step.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask

__all__ = ["SETTINGS", "Setting", "defaults", "load_config", "settings_table"]


@dataclass(frozen=True)
class Setting:
    """A configuration key's default value and a one-line meaning."""

    default: Any
    meaning: str


SETTINGS: dict[str, Setting] = {
    "EVENTBUS_TRANSPORT": Setting(
        "inprocess", "default transport: `inprocess`, `redis-streams` or `rq`"
    ),
    "EVENTBUS_ROUTES": Setting(
        {}, "handler-id pattern → transport, overriding the default (longest pattern wins)"
    ),
    "EVENTBUS_REDIS_URL": Setting(
        "redis://127.0.0.1:6379/0",
        "Redis for both Redis transports (`rediss://` for TLS; `redis+sentinel://`, and "
        "`redis+cluster://` for Streams: docs/transports/redis-streams.md)",
    ),
    "EVENTBUS_KEY_PREFIX": Setting("eventbus", "prefix of every Redis key the bus writes"),
    "EVENTBUS_STRICT": Setting(
        True, "publishing or subscribing to a name not in `EventType` is an error"
    ),
    "EVENTBUS_RAISE_HANDLER_ERRORS": Setting(
        False, "raise in-process handler errors together after all handlers ran (on under pytest)"
    ),
    "EVENTBUS_VALIDATE_PAYLOADS": Setting(
        True, "check encodability, size and declared shape in `publish()`"
    ),
    "EVENTBUS_MAX_PAYLOAD_BYTES": Setting(65536, "encoded payload size limit"),
    "EVENTBUS_MAX_JSON_DEPTH": Setting(
        32, "deepest nesting of lists and objects in a payload, checked in `publish()` and workers"
    ),
    "EVENTBUS_LOG_FULL_ERRORS": Setting(
        False,
        "record handler and request errors unredacted (payload values, SQL details): "
        "debugging only",
    ),
    "EVENTBUS_MAX_DELIVERIES": Setting(
        5, "deliveries of one event to one handler before dead-lettering"
    ),
    "EVENTBUS_STREAM_MAXLEN": Setting(
        100_000,
        "approximate stream length kept; entries some group has not acked are never trimmed",
    ),
    "EVENTBUS_STREAMS_KEY_LAYOUT": Setting(
        "auto",
        "Streams key layout: `flat`, `hash-tagged` (one slot per event type), `auto` "
        "(hash-tagged on `redis+cluster://`)",
    ),
    "EVENTBUS_CLAIM_IDLE_MS": Setting(
        60_000, "a pending entry idle this long is claimed from its (presumed dead) consumer"
    ),
    "EVENTBUS_BLOCK_MS": Setting(2_000, "how long a streams worker blocks waiting for new entries"),
    "EVENTBUS_BATCH_SIZE": Setting(100, "entries a streams worker reads per round trip"),
    "EVENTBUS_RETRY_BACKOFF_MS": Setting(
        1_000, "base retry delay of the streams worker; doubles with each delivery"
    ),
    "EVENTBUS_STREAM_MAX_AGE_MS": Setting(
        None, "stream entries older than this are trimmed too, never unacked ones (`None`: off)"
    ),
    "EVENTBUS_MAINTENANCE_INTERVAL_MS": Setting(
        30_000, "how often a streams worker trims its streams and deletes idle consumers"
    ),
    "EVENTBUS_CONSUMER_EXPIRY_MS": Setting(
        3_600_000, "a streams consumer idle this long with no pending entries is deleted"
    ),
    "EVENTBUS_RQ_QUEUE": Setting("eventbus", "default RQ queue of bus jobs"),
    "EVENTBUS_RQ_QUEUES": Setting({}, "module name → RQ queue, overriding the default queue"),
    "EVENTBUS_RQ_RESULT_TTL": Setting(60, "seconds RQ keeps a finished bus job"),
    "EVENTBUS_RQ_RETRY_INTERVALS": Setting(
        [1, 5, 30, 120], "seconds between RQ retries; the last repeats up to the max deliveries"
    ),
    "EVENTBUS_RQ_JOB_TIMEOUT": Setting(
        180, "seconds an RQ bus job may run before RQ stops it (also bounds crash detection)"
    ),
    "EVENTBUS_RQ_DEDUP_TTL": Setting(
        3600, "seconds a re-publish of the same event to the same RQ handler is skipped"
    ),
    "EVENTBUS_IDLE_WORKER": Setting(
        "refuse",
        "a worker with no handler routed to it: `refuse` (exit 2, saying why) or `warn` (idle)",
    ),
    "EVENTBUS_OUTBOX": Setting(
        "auto",
        "`auto`: events with remote handlers go through the transactional outbox; `true` / `false`",
    ),
    "EVENTBUS_OUTBOX_RELAY": Setting(
        "thread", "`thread`: relay inside each web process; `none`: run `flask events relay`"
    ),
    "EVENTBUS_OUTBOX_BATCH_SIZE": Setting(500, "outbox rows a relay sends per round trip"),
    "EVENTBUS_OUTBOX_POLL_MS": Setting(1_000, "how often an idle relay looks for new rows"),
    "EVENTBUS_OUTBOX_LEASE_MS": Setting(
        30_000, "SQLite: a relay silent this long is replaced (its last batch may go out again)"
    ),
    "EVENTBUS_OUTBOX_RETENTION_S": Setting(
        86_400, "how long sent outbox rows (PostgreSQL: their record) are kept; `0`: not kept"
    ),
    "EVENTBUS_METRICS": Setting(
        False, "Prometheus metrics (the `metrics` extra) and `GET` on `EVENTBUS_METRICS_PATH`"
    ),
    "EVENTBUS_METRICS_PATH": Setting("/metrics", "where the web app serves its metrics"),
    "EVENTBUS_TRACING": Setting(
        False, "OpenTelemetry spans for publishes and handlers (the `tracing` extra)"
    ),
    "EVENTBUS_DASHBOARD": Setting(
        False, "mount the dashboard; it refuses every request the authorization hook denies"
    ),
    "EVENTBUS_DASHBOARD_PREFIX": Setting("/eventbus", "URL prefix of the dashboard"),
    "EVENTBUS_HEARTBEAT_S": Setting(
        10, "how often each process refreshes its record (routing, heartbeat) in Redis"
    ),
    "EVENTBUS_HEALTH_MAX_OUTBOX_AGE_S": Setting(
        300, "`/health/ready` fails when the oldest unsent outbox event is older (seconds)"
    ),
    "ENABLED_MODULES": Setting(None, "module names the loader mounts (`None`: all found)"),
    "MODULES_PACKAGE": Setting("modules", "package the loader discovers modules in"),
    "DATABASE_URL": Setting(
        None, "SQLAlchemy URL of the database (default: SQLite file under `instance/`)"
    ),
    "DATABASE_SCHEMA_CHECK": Setting(
        True, "refuse to start a web process or worker whose database is behind the migrations"
    ),
    "LOG_LEVEL": Setting("INFO", "log level: DEBUG, INFO, WARNING, ERROR"),
    "LOG_FORMAT": Setting("auto", "`json`, `console`, or `auto` (console on a terminal)"),
}


def defaults() -> dict[str, Any]:
    """A fresh copy of every default (mutable defaults are copied, never shared)."""
    return {key: _copy(setting.default) for key, setting in SETTINGS.items()}


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Fill ``app.config``: defaults, then ``FLASK_*`` environment, then ``overrides``."""
    app.config.from_mapping(defaults())
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    app.config.from_prefixed_env("FLASK")
    if overrides:
        app.config.from_mapping(overrides)
    given = app.config["DATABASE_URL"]  # not a string: validate_settings reports it
    url = given if isinstance(given, str) and given else _default_database(app)
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if "SQLALCHEMY_DATABASE_URI" not in (overrides or {}):
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    # SQL parameters (patients' names, emails) stay out of error messages unless asked for.
    engine_options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    engine_options.setdefault("hide_parameters", not app.config["EVENTBUS_LOG_FULL_ERRORS"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    if url.startswith("sqlite:///") and ":memory:" not in url:
        os.makedirs(app.instance_path, exist_ok=True)


def _default_database(app: Flask) -> str:
    return f"sqlite:///{os.path.join(app.instance_path, 'clinic.db')}"


def settings_table() -> str:
    """The README's configuration table, generated from :data:`SETTINGS`."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    for key, setting in SETTINGS.items():
        default = json.dumps(setting.default) if setting.default is not None else "`None`"
        if setting.default is not None:
            default = f"`{default}`"
        rows.append(f"| `{key}` | {default} | {setting.meaning} |")
    return "\n".join(rows)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value
