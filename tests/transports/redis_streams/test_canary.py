"""No personal data or secret leaves through logs, dead letters, CLI output or HTTP bodies.

A marker is put in the payloads (a patient's name and email) and in the Redis password of a
private ``redis-server`` the test starts and stops by its pid. Handlers fail in the ways users
meet first: a database constraint (SQLAlchemy on SQLite, and on a PostgreSQL database the test
creates and drops: a CHECK violation, whose ``DETAIL: Failing row contains (...)`` holds the
marker, and a unique violation, whose ``Key (email)=(...)`` does; the engines' parameters NOT
hidden, so the redaction itself is what hides them), ``raise ValueError(f"bad {email}")``, and
Redis stopped under the app. Everything that observes the bus watches too: an OpenTelemetry
in-memory span exporter, the Prometheus metrics, receivers of every signal. The marker must
appear 0 times in everything captured (``dlq show`` prints the event itself on purpose, an
operator decides on a replay: the rest of its output is searched).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest

from app.core.events import EventType, event_bus, signals
from app.core.events.exceptions import EventBusError
from app.log import configure_logging
from app.observability import metrics
from app.observability.tracing import install_tracing, uninstall_tracing
from tests.app.observability_support import observers_restored
from tests.support.postgres import postgres_database
from tests.support.redis_server import RedisServer, password_protected_redis
from tests.support.schema import make_app
from transports.redis_streams import StreamsWorker

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

MARKER = "canary7Qx"
PASSWORD = f"pw-{MARKER}"
PAYLOAD = {
    "patient_id": "p1",
    "clinic_id": "c1",
    "full_name": f"Ada {MARKER}",
    "email": f"{MARKER}@example.org",
}


@pytest.fixture
def locked_redis() -> Iterator[RedisServer]:
    with password_protected_redis(PASSWORD) as server:
        yield server


@pytest.fixture
def people_pg() -> Iterator[sa.Engine]:
    """A PostgreSQL database of the test's own (created, then dropped), parameters shown."""
    with postgres_database() as url:
        engine = sa.create_engine(url, hide_parameters=False)
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE TABLE people (email TEXT CONSTRAINT people_email_key UNIQUE,"
                    " name TEXT CONSTRAINT people_name_short CHECK (length(name) < 4))"
                )
            )
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def observed() -> Iterator[dict[str, Any]]:
    """Spans (in memory), metrics and every signal's arguments, while the test runs."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    registry = CollectorRegistry()
    received: list[str] = []

    def receive(sender: Any, **kwargs: Any) -> None:
        received.append(repr(kwargs.get("error")) + repr(kwargs))

    with observers_restored():
        install_tracing(provider)
        metrics.install(metrics.BusMetrics(registry, known_event_type=bool, known_handler=bool))
        for signal in signals.ALL_SIGNALS:
            if signal is not signals.event_published:  # its receivers get the payload
                signal.connect(receive)
        try:
            yield {"spans": exporter, "registry": registry, "received": received}
        finally:
            for signal in signals.ALL_SIGNALS:
                signal.disconnect(receive)
            uninstall_tracing()


@pytest.fixture
def canary_app(
    locked_redis: RedisServer, key_prefix: str, tmp_path: Path, people_pg: sa.Engine
) -> Iterator[Flask]:
    saved = (event_bus.subscriptions(), event_bus.router, event_bus.transports)
    app = make_app(
        {
            "EVENTBUS_TRANSPORT": "redis-streams",
            "EVENTBUS_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:{locked_redis.port}/0",
            "EVENTBUS_KEY_PREFIX": key_prefix,
            "MODULES_PACKAGE": "tests.app.modules.samples.empty",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'canary.db'}",
            "EVENTBUS_MAX_DELIVERIES": 2,
            "EVENTBUS_RETRY_BACKOFF_MS": 5,
            "EVENTBUS_BLOCK_MS": 100,
            "EVENTBUS_RAISE_HANDLER_ERRORS": False,
            "LOG_FORMAT": "json",
        }
    )
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'people.db'}")  # parameters shown
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE people (email TEXT UNIQUE, name TEXT)"))

    def stores_twice(payload: dict[str, Any]) -> None:
        with engine.begin() as connection:
            for _ in range(2):
                connection.execute(
                    sa.text("INSERT INTO people VALUES (:email, :name)"),
                    {"email": payload["email"], "name": payload["full_name"]},
                )

    def refuses(payload: dict[str, Any]) -> None:
        raise ValueError(f"bad {payload['email']}")

    def checks_on_postgres(payload: dict[str, Any]) -> None:  # DETAIL: Failing row contains
        with people_pg.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO people VALUES (:email, :name)"),
                {"email": payload["email"], "name": payload["full_name"]},
            )

    def unique_on_postgres(payload: dict[str, Any]) -> None:  # DETAIL: Key (email)=(...)
        with people_pg.begin() as connection:
            for _ in range(2):
                connection.execute(
                    sa.text("INSERT INTO people VALUES (:email, 'Ada')"),
                    {"email": payload["email"]},
                )

    event_bus.subscribe(EventType.PATIENT_CREATED, stores_twice, handler_id="canary.db")
    event_bus.subscribe(EventType.PATIENT_CREATED, refuses, handler_id="canary.value")
    event_bus.subscribe(EventType.PATIENT_CREATED, checks_on_postgres, handler_id="canary.pg_check")
    event_bus.subscribe(EventType.PATIENT_CREATED, unique_on_postgres, handler_id="canary.pg_key")
    try:
        yield app
    finally:
        try:
            for transport in app.extensions["eventbus"].transports.values():
                transport.close()
        finally:
            event_bus.configure(router=saved[1], transports=saved[2])
            event_bus.restore(saved[0])
            engine.dispose()


def test_the_marker_never_leaves(
    canary_app: Flask,
    locked_redis: RedisServer,
    observed: dict[str, Any],
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")  # write to this test's captured stderr
    try:
        seen = _run_and_collect(canary_app, locked_redis, capfd)
    finally:
        with capfd.disabled():
            configure_logging("INFO", "json")  # not left writing to a closed capture
    seen += _observed(observed)
    leaks = [text for text in seen if MARKER in text]
    assert leaks == [], leaks


def _observed(observed: dict[str, Any]) -> list[str]:
    """What the tracer exported, the metrics exposition and the signals' arguments."""
    spans = observed["spans"].get_finished_spans()
    failed = {
        span.attributes["messaging.consumer.group.name"]: span
        for span in spans
        if span.attributes
        and "messaging.consumer.group.name" in span.attributes
        and span.status.description
    }
    assert {"canary.db", "canary.value", "canary.pg_check", "canary.pg_key"} <= set(failed)
    events = [event for span in failed.values() for event in span.events]
    assert events and all(event.name == "exception" for event in events)
    value = failed["canary.value"].events[0].attributes or {}
    assert value["exception.type"] == "ValueError"
    assert value["exception.message"] == "bad [redacted]"
    assert "refuses" in str(value["exception.stacktrace"]), "the frames are kept"
    check = failed["canary.pg_check"].events[0].attributes or {}
    assert "SQLSTATE 23514, constraint people_name_short" in str(check["exception.message"])
    assert failed["canary.pg_key"].status.description == "IntegrityError"
    exposition = generate_latest(observed["registry"]).decode()
    assert (
        'eventbus_events_failed_total{event_type="patient.created",handler_id="canary.value"'
        in (exposition)
    )
    received = observed["received"]
    assert any("RedactedError" in text for text in received), received
    texts = [span.to_json() for span in spans]
    return [*texts, exposition, *received]


def _run_and_collect(
    canary_app: Flask, locked_redis: RedisServer, capfd: pytest.CaptureFixture[str]
) -> list[str]:
    seen: list[str] = []
    runner = canary_app.test_cli_runner()
    with canary_app.app_context():
        event_bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    worker = StreamsWorker.from_app(canary_app, consumer_name="canary")
    worker.run(burst=True)
    worker.close()

    client: Any = redis.Redis(port=locked_redis.port, password=PASSWORD)
    letters = client.xrange(canary_app.config["EVENTBUS_KEY_PREFIX"] + ":dead-letters")
    if not letters:  # hash-tagged layouts keep one dead-letter stream per event type
        keys = client.keys(canary_app.config["EVENTBUS_KEY_PREFIX"] + "*dead-letters*")
        letters = [row for key in keys for row in client.xrange(key)]
    records = {
        fields[b"handler"].decode(): fields[b"error_class"].decode()
        + ": "
        + fields[b"reason"].decode()
        for _, fields in letters
    }
    assert set(records) == {"canary.db", "canary.value", "canary.pg_check", "canary.pg_key"}
    assert records["canary.value"] == "ValueError: bad [redacted]"
    assert "SQLITE_CONSTRAINT_UNIQUE" in records["canary.db"], records
    assert records["canary.pg_check"] == (
        "IntegrityError: IntegrityError (CheckViolation): SQLSTATE 23514, "
        "constraint people_name_short"
    ), records
    assert records["canary.pg_key"].endswith("SQLSTATE 23505, constraint people_email_key")
    seen += [str({k: v for k, v in f.items() if not k.startswith(b"event.")}) for _, f in letters]

    for command in (
        ["events", "dlq", "list"],
        ["events", "dlq", "list", "--json"],
        ["events", "stats"],
    ):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output
        seen.append(result.output)
    listed = runner.invoke(args=["events", "dlq", "list", "--json"]).output.splitlines()
    for letter in (json.loads(line) for line in listed if line.startswith("{")):
        shown = runner.invoke(args=["events", "dlq", "show", letter["id"]])
        assert shown.exit_code == 0, shown.output
        detail = json.loads(shown.output)
        event = json.dumps([detail.pop("envelope"), detail.pop("raw")])
        assert MARKER in event, "show prints the event itself on purpose"
        seen.append(json.dumps(detail))  # the reason and the rest: no marker

    locked_redis.stop()  # Redis gone under the app: every error names a masked URL
    with canary_app.app_context(), pytest.raises(EventBusError) as caught:
        event_bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    seen.append(f"{caught.value} {caught.value.__cause__}")
    for command in (["events", "dlq", "list"], ["events", "stats"]):
        result = runner.invoke(args=command)
        assert result.exit_code != 0
        seen.append(result.output)
    response = canary_app.test_client().get("/health/ready")
    seen.append(response.get_data(as_text=True))

    captured = capfd.readouterr()
    seen += [captured.out, captured.err]
    assert "handler.failed" in captured.err + captured.out, "the logs were captured"
    return seen
