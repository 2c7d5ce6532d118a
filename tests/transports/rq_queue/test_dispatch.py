"""The dispatcher: finds the handler by id, rebuilds the envelope, binds the correlation id;
fails malformed or unknown jobs at once with the reason (no retry)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import structlog
from flask import Flask, current_app
from rq.job import Retry
from rq.queue import Queue
from rq.serializers import JSONSerializer

from app.core.events import (
    EventBus,
    EventType,
    MalformedEnvelopeError,
    Router,
    UnknownEventError,
    UnknownHandlerError,
    current_event,
)
from tests.transports.rq_queue.conftest import Publisher
from transports import rq_queue
from transports.rq_queue import DISPATCHER_NAME, RQDeadLetterStore, dispatch, drain

ENVELOPE = {
    "id": "a" * 32,
    "type": "patient.created",
    "version": 1,
    "occurred_at": "2026-11-22T10:00:00.000000Z",
    "producer": "patients",
    "correlation_id": "req-9",
    "causation_id": None,
    "payload": {"patient_id": "p1"},
}


@pytest.fixture
def bus() -> EventBus:
    bus = EventBus()
    bus.configure(router=Router("inprocess", {}, {"inprocess"}))
    return bus


def test_dispatch_runs_the_handler_with_envelope_and_bound_log_context(bus: EventBus) -> None:
    seen: list[tuple[Any, ...]] = []

    def handler(payload: dict[str, Any]) -> None:
        event = current_event()
        assert event is not None
        seen.append(
            (
                payload,
                event.id,
                event.correlation_id,
                event.producer,
                structlog.contextvars.get_contextvars(),
            )
        )

    bus.subscribe(EventType.PATIENT_CREATED, handler, handler_id="d.handler")
    with rq_queue.installed(bus):
        dispatch("d.handler", ENVELOPE)
    [(payload, event_id, correlation, producer, logged)] = seen
    assert (payload, event_id, correlation, producer) == (
        {"patient_id": "p1"},
        "a" * 32,
        "req-9",
        "patients",
    )
    assert logged == {
        "correlation_id": "req-9",
        "event_id": "a" * 32,
        "event_type": "patient.created",
        "handler_id": "d.handler",
    }
    assert structlog.contextvars.get_contextvars() == {}, "unbound after the job"


def test_dispatch_runs_inside_the_app_context(bus: EventBus) -> None:
    app = Flask("dispatch-test")
    names: list[str] = []
    bus.subscribe(
        EventType.PATIENT_CREATED, lambda p: names.append(current_app.name), handler_id="d.ctx"
    )
    with rq_queue.installed(bus, app):
        dispatch("d.ctx", ENVELOPE)
    assert names == ["dispatch-test"]


@pytest.mark.parametrize(
    ("handler_id", "envelope", "error", "message"),
    [
        ("d.known", {**ENVELOPE, "payload": "nope"}, MalformedEnvelopeError, "payload"),
        ("d.known", ["not", "a", "dict"], MalformedEnvelopeError, "not a dict"),
        ("d.known", {**ENVELOPE, "id": ""}, MalformedEnvelopeError, "missing field(s): id"),
        (42, ENVELOPE, MalformedEnvelopeError, "handler id must be a non-empty string"),
        ("d.unknown", ENVELOPE, UnknownHandlerError, "no handler 'd.unknown'"),
        ("d.known", {**ENVELOPE, "type": "patient.exploded"}, UnknownEventError, "exploded"),
    ],
)
def test_dispatch_rejects_bad_jobs_with_the_reason(
    bus: EventBus, handler_id: Any, envelope: Any, error: type[Exception], message: str
) -> None:
    ran: list[Any] = []
    bus.subscribe(EventType.PATIENT_CREATED, ran.append, handler_id="d.known")
    with rq_queue.installed(bus), pytest.raises(error, match=re.escape(message)):
        dispatch(handler_id, envelope)
    assert ran == []


@pytest.mark.redis
@pytest.mark.parametrize(
    ("handler_id", "envelope", "error"),
    [
        ("d.unknown", ENVELOPE, "UnknownHandlerError"),
        ("d.known", {**ENVELOPE, "payload": 3}, "MalformedEnvelopeError"),
    ],
)
def test_a_job_that_cannot_succeed_fails_at_once_with_the_reason(
    make_publisher: Callable[..., Publisher],
    key_prefix: str,
    handler_id: str,
    envelope: Any,
    error: str,
) -> None:
    publisher = make_publisher()
    publisher.bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="d.known")
    queue = Queue(
        publisher.settings.queue_names()[0], connection=publisher.client, serializer=JSONSerializer
    )
    queue.enqueue(
        DISPATCHER_NAME,
        handler_id,
        envelope,
        job_id=f"{key_prefix}-bad",
        retry=Retry(max=4, interval=[0, 0, 0, 0]),
    )
    with rq_queue.installed(publisher.bus):
        drain(publisher.client, publisher.settings.queue_names(), worker_name=key_prefix)
    [letter] = RQDeadLetterStore(publisher.settings, publisher.client).list()
    assert letter.error_class == error
    assert letter.deliveries == 1, "no retry: another attempt could not succeed"


def test_observers_get_the_failure_redacted_with_the_dead_letter_reason(bus: EventBus) -> None:
    from app.core.events.instrumentation import HOOK, Kind, Observation
    from app.core.events.redaction import RedactedError

    secret = "canary-dispatch@example.org"

    def refuses(payload: dict[str, Any]) -> None:
        raise ValueError(f"bad {payload['email']}")

    bus.subscribe(EventType.PATIENT_CREATED, refuses, handler_id="d.refuses")
    seen: list[Observation] = []
    HOOK.add(seen.append)
    try:
        with rq_queue.installed(bus), pytest.raises(Exception, match=r"bad \[redacted\]"):
            dispatch("d.refuses", {**ENVELOPE, "payload": {"email": secret}})
    finally:
        HOOK.remove(seen.append)
    failed, dead = (next(o for o in seen if o.kind is k) for k in (Kind.FAILED, Kind.DEAD_LETTERED))
    assert (
        isinstance(failed.error, RedactedError)
        and str(failed.error) == "ValueError: bad [redacted]"
    )
    assert (dead.error_class, dead.reason) == ("ValueError", "bad [redacted]")
    assert all(secret not in f"{o.error!r} {o.error} {o.reason}" for o in seen)
