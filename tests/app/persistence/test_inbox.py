"""``idempotent_handler``: one effect per (handler, event id), in the handler's transaction."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, insert, select

from app.core.events import Envelope, EventBus, EventType
from app.core.persistence import idempotent_handler, inbox_table, prune_inbox, utcnow
from app.db import db
from modules.notifications import handlers as notification_handlers
from tests.app.persistence.conftest import PROBE

MODULE = "persistence_probe"
INBOX = inbox_table(MODULE)
calls: list[str] = []


@idempotent_handler(module=MODULE)
def on_created(payload: dict[str, Any]) -> None:
    calls.append(payload["patient_id"])
    db.session.execute(insert(PROBE).values(id=payload["patient_id"], note="created"))


@idempotent_handler(module=MODULE)
def also_on_created(payload: dict[str, Any]) -> None:
    calls.append("also")


@idempotent_handler(module=MODULE, handler_id="probe.custom")
def _fails_first(payload: dict[str, Any]) -> None:
    calls.append("attempt")
    db.session.execute(insert(PROBE).values(id="attempt", note="x"))
    if calls.count("attempt") == 1:
        raise ConnectionError("the mail server hung up")


@idempotent_handler(module=MODULE)
def slow(payload: dict[str, Any]) -> None:
    calls.append(threading.current_thread().name)
    time.sleep(0.3)
    db.session.execute(insert(PROBE).values(id=threading.current_thread().name, note="slow"))


def envelope(event_id: str = "a" * 32, patient_id: str = "p1") -> Envelope:
    return Envelope(
        id=event_id,
        type=EventType.PATIENT_CREATED,
        payload={"patient_id": patient_id, "clinic_id": "c1"},
        correlation_id=event_id,
    )


@pytest.fixture
def bus(app: Flask, eventbus: EventBus) -> EventBus:
    calls.clear()
    for handler in (on_created, also_on_created, _fails_first, slow):
        eventbus.subscribe(
            EventType.PATIENT_CREATED,
            handler,
            handler_id=handler.inbox_handler_id,  # type: ignore[attr-defined]
        )
    return eventbus


def rows() -> int:
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(PROBE)) or 0


def inbox_rows() -> list[tuple[str, str, str]]:
    with db.engine.connect() as connection:
        result = connection.execute(
            select(INBOX.c.handler_id, INBOX.c.event_id, INBOX.c.event_type).order_by(
                INBOX.c.handler_id
            )
        )
        return [(row[0], row[1], row[2]) for row in result]


def test_ids_follow_the_loader_convention() -> None:
    assert on_created.inbox_handler_id == "persistence_probe.on_created"  # type: ignore[attr-defined]
    assert _fails_first.inbox_handler_id == "probe.custom"  # type: ignore[attr-defined]
    derived = notification_handlers.on_patient_created.inbox_handler_id  # type: ignore[attr-defined]
    assert derived == "notifications.on_patient_created"
    assert on_created.__name__ == "on_created"


def test_a_handler_outside_modules_must_name_its_module() -> None:
    with pytest.raises(TypeError, match="pass idempotent_handler"):
        idempotent_handler(lambda payload: None)


def test_the_same_envelope_twice_has_one_effect(bus: EventBus) -> None:
    bus.deliver("persistence_probe.on_created", envelope())
    bus.deliver("persistence_probe.on_created", envelope())
    assert calls == ["p1"]
    assert rows() == 1
    assert inbox_rows() == [("persistence_probe.on_created", "a" * 32, "patient.created")]


def test_each_handler_has_its_own_record(bus: EventBus) -> None:
    for _ in range(2):
        bus.deliver("persistence_probe.on_created", envelope())
        bus.deliver("persistence_probe.also_on_created", envelope())
    assert calls == ["p1", "also"]


def test_a_new_event_id_is_handled(bus: EventBus) -> None:
    bus.deliver("persistence_probe.on_created", envelope("a" * 32, "p1"))
    bus.deliver("persistence_probe.on_created", envelope("b" * 32, "p2"))
    assert calls == ["p1", "p2"]


def test_a_failure_rolls_back_the_record_with_the_writes(bus: EventBus) -> None:
    with pytest.raises(ConnectionError):
        bus.deliver("probe.custom", envelope())
    assert (rows(), inbox_rows()) == (0, [])
    bus.deliver("probe.custom", envelope())  # the retry runs it again
    bus.deliver("probe.custom", envelope())  # and then never again
    assert calls == ["attempt", "attempt"]
    assert rows() == 1


def test_in_process_publish_uses_the_inbox_too(bus: EventBus) -> None:
    bus.unsubscribe(EventType.PATIENT_CREATED, _fails_first)
    bus.unsubscribe(EventType.PATIENT_CREATED, slow)
    bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p9", "clinic_id": "c1"})
    assert calls == ["p9", "also"]
    assert {row[0] for row in inbox_rows()} == {
        "persistence_probe.on_created",
        "persistence_probe.also_on_created",
    }


def test_without_a_current_event_it_runs_without_the_inbox(bus: EventBus) -> None:
    on_created({"patient_id": "direct", "clinic_id": "c1"})
    assert (calls, rows(), inbox_rows()) == (["direct"], 1, [])


def test_concurrent_duplicate_deliveries_have_one_effect(app: Flask, bus: EventBus) -> None:
    """Two workers get the same event at once: the second waits on the key, then skips."""
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            with app.app_context():
                bus.deliver("persistence_probe.slow", envelope())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, name=f"worker-{n}") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert rows() == 1
    assert len(inbox_rows()) == 1


def test_prune_removes_old_records(bus: EventBus) -> None:
    bus.deliver("persistence_probe.on_created", envelope())
    assert prune_inbox(MODULE, utcnow() - timedelta(days=1)) == 0
    assert prune_inbox(MODULE, utcnow() + timedelta(seconds=1)) == 1
    db.session.commit()
    assert inbox_rows() == []
