"""No personal data or secret leaves through logs, dead letters, CLI output or HTTP bodies.

A marker is put in the payloads (a patient's name and email) and in the Redis password of a
private ``redis-server`` the test starts and stops by its pid. Handlers fail in the ways users
meet first: a database constraint (SQLAlchemy on SQLite, parameters NOT hidden by the engine,
so the redaction itself is what hides them), ``raise ValueError(f"bad {email}")``, and Redis
stopped under the app. The marker must appear 0 times in everything captured.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from flask import Flask

from app.core.events import EventType, event_bus
from app.core.events.exceptions import EventBusError
from app.log import configure_logging
from tests.support.redis_server import RedisServer, start_redis_server
from tests.support.schema import make_app
from transports.redis_streams import StreamsWorker

pytestmark = pytest.mark.redis

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
    server = start_redis_server()
    try:
        redis.Redis(port=server.port).config_set("requirepass", PASSWORD)
        yield server
    finally:
        server.stop()


@pytest.fixture
def canary_app(locked_redis: RedisServer, key_prefix: str, tmp_path: Path) -> Iterator[Flask]:
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

    event_bus.subscribe(EventType.PATIENT_CREATED, stores_twice, handler_id="canary.db")
    event_bus.subscribe(EventType.PATIENT_CREATED, refuses, handler_id="canary.value")
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
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")  # write to this test's captured stderr
    try:
        _run_and_collect(canary_app, locked_redis, capfd)
    finally:
        with capfd.disabled():
            configure_logging("INFO", "json")  # not left writing to a closed capture


def _run_and_collect(
    canary_app: Flask, locked_redis: RedisServer, capfd: pytest.CaptureFixture[str]
) -> None:
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
    assert set(records) == {"canary.db", "canary.value"}, records
    assert records["canary.value"] == "ValueError: bad [redacted]"
    assert "SQLITE_CONSTRAINT_UNIQUE" in records["canary.db"], records
    seen += [str({k: v for k, v in f.items() if not k.startswith(b"event.")}) for _, f in letters]

    for command in (
        ["events", "dlq", "list"],
        ["events", "dlq", "list", "--json"],
        ["events", "stats"],
    ):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output
        seen.append(result.output)

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
    leaks = [text for text in seen if MARKER in text]
    assert leaks == [], leaks
    assert "handler.failed" in captured.err + captured.out, "the logs were captured"
