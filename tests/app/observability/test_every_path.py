"""The instrumentation hook hears the same things on every path.

A recorder observes the hook while the clinic runs with its timeline handler on each path:
in-process, a Redis Streams worker, an RQ worker, and the outbox relay. Each observation
names its kind, event type, handler id and transport, with a duration for handler calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from app.core.events.instrumentation import HOOK, Kind, Observation
from app.core.events.redaction import RedactedError
from tests.app.observability_support import observers_restored
from tests.support.redis_server import RedisServer, delete_prefix
from tests.support.schema import make_app

TIMELINE = "patient_timeline.on_event"
PATIENT = {"full_name": "Ada", "email": "ada@example.org", "date_of_birth": "1815-12-10"}


@pytest.fixture
def recorded() -> Iterator[list[Observation]]:
    seen: list[Observation] = []
    with observers_restored():
        HOOK.add(seen.append)
        yield seen


@pytest.fixture
def make_clinic(
    real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        app = make_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'clinic.db'}",
                "EVENTBUS_REDIS_URL": real_redis.url,
                "EVENTBUS_KEY_PREFIX": key_prefix,
                "EVENTBUS_BLOCK_MS": 100,
                "EVENTBUS_OUTBOX": False,
                "EVENTBUS_RAISE_HANDLER_ERRORS": False,
                **overrides,
            }
        )
        apps.append(app)
        return app

    yield make
    client = redis.Redis.from_url(real_redis.url)
    delete_prefix(client, f"{key_prefix}*")
    delete_prefix(client, "rq:*" + key_prefix + "*")
    client.close()
    for app in apps:
        for transport in app.extensions["eventbus"].transports.values():
            transport.close()


def _timeline(seen: list[Observation], transport: str) -> list[tuple[str, str]]:
    return [
        (o.kind.value, o.event_type)
        for o in seen
        if o.handler_id == TIMELINE and o.transport == transport
    ]


def _one_retry(got: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """What the timeline's two events give when the first call fails once: whichever event
    came first failed, was retried and handled; the other was handled."""
    first = next((event for kind, event in got if kind == "failed"), "patient.created")
    other = "notification.sent" if first == "patient.created" else "patient.created"
    return [("failed", first), ("retried", first), ("handled", first), ("handled", other)]


def _fail_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    from modules.patient_timeline import handlers
    from modules.patient_timeline.summaries import summarize as real

    calls: list[str] = []

    def flaky(event_type: str, payload: Any) -> Any:
        calls.append(event_type)
        if len(calls) == 1:
            raise RuntimeError("first call fails")
        return real(event_type, payload)

    monkeypatch.setattr(handlers, "summarize", flaky)  # the name the handler calls


@pytest.mark.redis
def test_streams_worker(
    make_clinic: Callable[..., Flask],
    recorded: list[Observation],
    monkeypatch: pytest.MonkeyPatch,
    real_redis: RedisServer,
) -> None:
    from transports.redis_streams import StreamsWorker

    app = make_clinic(
        EVENTBUS_ROUTES={"patient_timeline.*": "redis-streams"},
        EVENTBUS_MAX_DELIVERIES=2,
        EVENTBUS_RETRY_BACKOFF_MS=1,
    )
    assert app.test_client().post("/patients", json=PATIENT).status_code == 201
    client = redis.Redis.from_url(real_redis.url)
    client.xadd(f"{app.config['EVENTBUS_KEY_PREFIX']}:stream:patient.created", {"junk": "x"})
    client.close()
    _fail_first_call(monkeypatch)
    for _ in range(3):
        worker = StreamsWorker.from_app(app, (TIMELINE,), consumer_name="observed")
        try:
            worker.run(burst=True)
        finally:
            worker.close()
    got = _timeline(recorded, "redis-streams")
    assert sorted(got) == sorted([*_one_retry(got), ("dead_lettered", "patient.created")]), got
    calls = [o for o in recorded if o.kind in (Kind.HANDLED, Kind.FAILED)]
    assert all(o.duration_s is not None and o.duration_s >= 0 for o in calls)
    dead = next(o for o in recorded if o.kind is Kind.DEAD_LETTERED)
    assert (dead.envelope, dead.error_class) == (None, "MalformedEnvelopeError")


@pytest.mark.redis
def test_rq_worker(
    make_clinic: Callable[..., Flask],
    recorded: list[Observation],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from transports.rq_queue import build_worker

    app = make_clinic(EVENTBUS_ROUTES={"patient_timeline.*": "rq"}, EVENTBUS_MAX_DELIVERIES=2)
    assert app.test_client().post("/patients", json=PATIENT).status_code == 201
    _fail_first_call(monkeypatch)
    worker = build_worker(app, simple=True, name=f"observed-{app.config['EVENTBUS_KEY_PREFIX']}")
    worker.work(burst=True, with_scheduler=False)
    got = _timeline(recorded, "rq")
    first = _one_retry(got)[0][1]  # its retry is scheduled in a second: not in this burst
    assert sorted(got) == sorted(set(_one_retry(got)) - {("handled", first)}), got


def _published(seen: list[Observation]) -> list[tuple[str, str]]:
    return [(o.event_type, o.transport) for o in seen if o.kind is Kind.PUBLISHED]


def test_in_process(
    make_clinic: Callable[..., Flask],
    recorded: list[Observation],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_clinic()
    _fail_first_call(monkeypatch)  # the timeline's first call (the nested welcome) fails
    assert app.test_client().post("/patients", json=PATIENT).status_code == 201
    assert _published(recorded) == [
        ("patient.created", "inprocess"),
        ("notification.sent", "inprocess"),
    ]
    calls = [(o.kind.value, o.event_type, o.handler_id) for o in recorded if o.handler_id]
    assert calls == [
        ("failed", "notification.sent", TIMELINE),  # the welcome, nested in the first handler
        ("handled", "patient.created", "notifications.on_patient_created"),
        ("handled", "patient.created", TIMELINE),
    ]
    assert all(o.transport == "inprocess" for o in recorded)
    failed = next(o for o in recorded if o.kind is Kind.FAILED)
    assert failed.envelope is not None
    assert isinstance(failed.error, RedactedError), "observers never get the raw exception"
    assert failed.error_class == failed.error.error_class == "RuntimeError"


@pytest.mark.redis
def test_outbox_relay(make_clinic: Callable[..., Flask], recorded: list[Observation]) -> None:
    from app.core.outbox import EXTENSION

    app = make_clinic(
        EVENTBUS_ROUTES={"patient_timeline.*": "redis-streams"},
        EVENTBUS_OUTBOX=True,
        EVENTBUS_OUTBOX_RELAY="none",
    )
    assert app.test_client().post("/patients", json=PATIENT).status_code == 201
    stored = _published(recorded)
    assert ("patient.created", "outbox") in stored
    assert ("patient.created", "redis-streams") not in stored
    app.extensions[EXTENSION].drain()
    sent = _published(recorded)[len(stored) :]
    assert ("patient.created", "redis-streams") in sent
    assert all(transport == "redis-streams" for _, transport in sent)
