"""``publish_after_commit``: validated at the call, published after COMMIT, dropped on rollback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from app.core.events import (
    Envelope,
    EventBus,
    EventType,
    HandlerError,
    PayloadEncodingError,
    PayloadSchemaError,
    Router,
    Subscription,
    TransportError,
    UnknownEventError,
    current_event,
)
from app.core.persistence import handler_transaction, pending_events, publish_after_commit
from app.db import db
from tests.app.persistence.conftest import PROBE


def created(n: int) -> dict[str, Any]:
    return {"patient_id": f"p{n}", "clinic_id": "c1"}


def add_probe(session: Session | None = None, note: str = "x", row_id: str = "r1") -> None:
    (session or db.session).execute(insert(PROBE).values(id=row_id, note=note))


def probe_count() -> int:
    """Rows visible to a new connection, i.e. committed ones."""
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(PROBE)) or 0


class Seen:
    """A handler that records each payload and how many probe rows were committed then."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], int]] = []

    def __call__(self, payload: dict[str, Any]) -> None:
        self.calls.append((payload, probe_count()))


@pytest.fixture
def seen(app: Flask, eventbus: EventBus) -> Seen:
    handler = Seen()
    eventbus.subscribe(EventType.PATIENT_CREATED, handler, handler_id="test.seen")
    eventbus.subscribe(EventType.PATIENT_ARCHIVED, handler, handler_id="test.seen")
    return handler


def test_publishes_after_the_commit_not_before(seen: Seen) -> None:
    add_probe()
    publish_after_commit(EventType.PATIENT_CREATED, created(1))
    assert seen.calls == []
    assert [p.event_type for p in pending_events()] == ["patient.created"]
    db.session.commit()
    assert seen.calls == [(created(1), 1)]  # the handler saw the committed row
    assert pending_events() == []


def test_events_go_out_in_the_order_they_were_queued(seen: Seen) -> None:
    publish_after_commit(EventType.PATIENT_CREATED, created(1))
    publish_after_commit(EventType.PATIENT_ARCHIVED, created(2))
    publish_after_commit(EventType.PATIENT_CREATED, created(3))
    db.session.commit()
    assert [payload["patient_id"] for payload, _ in seen.calls] == ["p1", "p2", "p3"]


def test_a_rollback_publishes_nothing(seen: Seen) -> None:
    add_probe()
    publish_after_commit(EventType.PATIENT_CREATED, created(1))
    db.session.rollback()
    db.session.commit()  # a later commit does not resurrect them
    assert seen.calls == []
    assert probe_count() == 0


def test_closing_without_commit_publishes_nothing(seen: Seen) -> None:
    publish_after_commit(EventType.PATIENT_CREATED, created(1))
    db.session.remove()  # what the app context teardown does after a failed request
    assert seen.calls == []


def test_a_failed_commit_publishes_nothing(seen: Seen) -> None:
    add_probe(row_id="dup")
    db.session.commit()
    publish_after_commit(EventType.PATIENT_CREATED, created(1))
    with pytest.raises(IntegrityError):
        add_probe(row_id="dup")  # the transaction fails after the event was queued
    db.session.rollback()
    db.session.commit()
    assert seen.calls == []


def test_a_payload_is_copied_when_queued(seen: Seen) -> None:
    payload = created(1)
    publish_after_commit(EventType.PATIENT_CREATED, payload)
    payload["patient_id"] = "changed"
    db.session.commit()
    assert seen.calls[0][0]["patient_id"] == "p1"


@pytest.mark.parametrize(
    ("event_type", "payload", "error"),
    [
        ("patient.teleported", created(1), UnknownEventError),
        (EventType.PATIENT_CREATED, {**created(1), "full_name": {1, 2}}, PayloadEncodingError),
        (EventType.PATIENT_CREATED, {"patient_id": "p1"}, PayloadSchemaError),
        (EventType.PATIENT_CREATED, {**created(1), "mood": "ok"}, PayloadSchemaError),
    ],
)
def test_bad_events_raise_at_the_call_and_queue_nothing(
    seen: Seen, event_type: str, payload: dict[str, Any], error: type[Exception]
) -> None:
    add_probe()
    with pytest.raises(error):
        publish_after_commit(event_type, payload)
    assert pending_events() == []
    db.session.commit()
    assert seen.calls == []
    assert probe_count() == 1


def test_savepoints_keep_released_events_and_drop_rolled_back_ones(seen: Seen) -> None:
    publish_after_commit(EventType.PATIENT_CREATED, created(1))
    with db.session.begin_nested():
        publish_after_commit(EventType.PATIENT_CREATED, created(2))
    nested = db.session.begin_nested()
    publish_after_commit(EventType.PATIENT_CREATED, created(3))
    nested.rollback()
    assert [p.payload["patient_id"] for p in pending_events()] == ["p1", "p2"]
    db.session.commit()
    assert [payload["patient_id"] for payload, _ in seen.calls] == ["p1", "p2"]


def test_works_on_any_session(app: Flask, seen: Seen) -> None:
    with Session(db.engine) as session:
        add_probe(session)
        publish_after_commit(EventType.PATIENT_CREATED, created(1), session=session)
        assert seen.calls == []
        session.commit()
    assert seen.calls == [(created(1), 1)]


def test_the_producer_is_the_module_that_queued(eventbus: EventBus, app: Flask) -> None:
    envelopes: list[Envelope | None] = []
    eventbus.subscribe(
        EventType.PATIENT_CREATED, lambda p: envelopes.append(current_event()), handler_id="t.e"
    )
    publish_after_commit(EventType.PATIENT_CREATED, created(1))
    db.session.commit()
    (envelope,) = envelopes
    assert envelope is not None and envelope.producer == __name__


def test_a_handler_writes_in_its_own_transaction(eventbus: EventBus, app: Flask) -> None:
    """In-process handlers run after the COMMIT: they need (and get) their own transaction."""

    def write(payload: dict[str, Any]) -> None:
        with handler_transaction():
            add_probe(note="by handler", row_id=payload["patient_id"])

    eventbus.subscribe(EventType.PATIENT_CREATED, write, handler_id="test.write")
    add_probe(row_id="by-request")
    publish_after_commit(EventType.PATIENT_CREATED, created(7))
    db.session.commit()
    assert probe_count() == 2
    db.session.execute(select(PROBE)).all()  # the request's session is usable afterwards


def test_handler_errors_raise_from_commit_after_every_event_went_out(
    eventbus: EventBus, seen: Seen
) -> None:
    def broken(payload: dict[str, Any]) -> None:
        raise RuntimeError(f"broken {payload['patient_id']}")

    eventbus.subscribe(EventType.PATIENT_CREATED, broken, handler_id="test.broken")
    add_probe()
    publish_after_commit(EventType.PATIENT_CREATED, created(1))
    publish_after_commit(EventType.PATIENT_CREATED, created(2))
    with pytest.raises(HandlerError) as caught:
        db.session.commit()
    assert [str(e) for e in caught.value.exceptions] == ["broken p1", "broken p2"]
    assert caught.value.handler_ids == ("test.broken", "test.broken")
    assert [payload["patient_id"] for payload, _ in seen.calls] == ["p1", "p2"]
    assert probe_count() == 1  # the data is committed


class RefusingTransport:
    """A remote transport whose broker is down."""

    name = "refusing"

    def prepare(self, subscriptions: Sequence[Subscription]) -> None:
        pass

    def publish(self, envelope: Envelope, subscriptions: Sequence[Subscription]) -> None:
        raise TransportError("broker unreachable")

    def close(self) -> None:
        pass


def test_a_transport_error_is_logged_and_raised_after_the_others(app: Flask) -> None:
    bus = EventBus()
    bus.configure(
        router=Router("inprocess", {"t.remote": "refusing"}, {"inprocess", "refusing"}),
        transports={"refusing": RefusingTransport()},
    )
    local: list[str] = []
    bus.subscribe(EventType.PATIENT_ARCHIVED, lambda p: local.append(p["patient_id"]))
    bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="t.remote")
    add_probe()
    publish_after_commit(EventType.PATIENT_CREATED, created(1), bus=bus)
    publish_after_commit(EventType.PATIENT_ARCHIVED, created(2), bus=bus)
    with capture_logs() as logs, pytest.raises(TransportError, match="broker unreachable"):
        db.session.commit()
    assert local == ["p2"]
    assert probe_count() == 1
    assert [log for log in logs if log["event"] == "event.publish_failed_after_commit"] == [
        {
            "event": "event.publish_failed_after_commit",
            "event_type": "patient.created",
            "error": "TransportError",
            "log_level": "error",
            "logger": "eventbus.after_commit",
        }
    ]


def test_no_transaction_yet_begins_one(app: Flask, seen: Seen) -> None:
    session = db.session()
    session.commit()
    assert not session.in_transaction()
    publish_after_commit(EventType.PATIENT_CREATED, created(1))
    assert session.in_transaction()
    db.session.commit()
    assert len(seen.calls) == 1
