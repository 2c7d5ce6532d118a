"""Idempotent consumers: the same envelope delivered again to a handler has no second effect.

Remote transports deliver at least once. Here every consuming handler of the clinic gets each
envelope it already handled delivered twice more through ``event_bus.deliver`` (the worker
entry point), and the observable state does not change: no second message, no second send,
no duplicate timeline entry, no extra ``notification.sent``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.core.events import Envelope, event_bus
from app.core.events.exceptions import PayloadSchemaError
from app.core.events.subscriptions import matches
from app.core.events.testing import EventRecorder
from app.core.modules.loader import LOADER
from app.db import db
from modules.notifications.models import Message
from modules.notifications.sender import RecordingSender
from modules.patient_timeline.models import Entry
from tests.modules.clinic import Clinic

CONSUMERS = {
    "notifications.on_patient_created",
    "notifications.on_patient_updated",
    "notifications.on_appointment_scheduled",
    "notifications.on_appointment_rescheduled",
    "notifications.on_appointment_cancelled",
    "notifications.on_invoice_paid",
    "patient_timeline.on_event",
}


def effects(clinic: Clinic, recorder: EventRecorder) -> dict[str, Any]:
    """Everything a consumer could have done twice."""
    with clinic.app.app_context():
        messages = db.session.execute(
            select(Message.kind, Message.status, Message.recipient).order_by(Message.id)
        ).all()
        entries = db.session.execute(
            select(Entry.event_id, func.count()).group_by(Entry.event_id).order_by(Entry.event_id)
        ).all()
    sender = clinic.app.extensions["notifications"].sender
    assert isinstance(sender, RecordingSender)
    return {
        "messages": [tuple(row) for row in messages],
        "timeline": [tuple(row) for row in entries],
        "sent": len(sender.sent),
        "notification.sent": len(recorder.of_type("notification.sent")),
    }


def test_the_clinic_consumers_are_the_ones_tested(clinic: Clinic) -> None:
    wired = {s.handler_id for s in event_bus.subscriptions() if s.owner == LOADER}
    assert wired == CONSUMERS
    for sub in event_bus.subscriptions():
        if sub.owner == LOADER:
            assert getattr(sub.handler, "inbox_handler_id", None) == sub.handler_id


@pytest.mark.reactions
def test_redelivering_every_envelope_to_every_consumer_has_no_second_effect(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    clinic.story()
    clinic.settle()
    envelopes = [event.envelope for event in published_events if event.envelope is not None]
    before = effects(clinic, published_events)
    assert before["sent"] == 6 and len(before["timeline"]) == len(envelopes), before["messages"]
    redelivered = set()
    with clinic.app.app_context():
        for sub in event_bus.subscriptions():
            if sub.owner != LOADER:
                continue
            for envelope in envelopes:
                if matches(sub.pattern, envelope.type):
                    event_bus.deliver(sub.handler_id, envelope)
                    event_bus.deliver(sub.handler_id, envelope)
                    redelivered.add(sub.handler_id)
    assert redelivered == CONSUMERS
    assert effects(clinic, published_events) == before
    assert all(count == 1 for _, count in before["timeline"])


@pytest.mark.reactions
def test_a_new_event_id_is_a_new_event(clinic: Clinic, published_events: EventRecorder) -> None:
    """The inbox keys on the event id: the same payload under a new id does take effect."""
    patient = clinic.create_patient()["id"]
    (created,) = [e.envelope for e in published_events if e.type == "patient.created"]
    assert created is not None
    again = created.replace(id="f" * 32)
    with clinic.app.app_context():
        event_bus.deliver("notifications.on_patient_created", created)
        event_bus.deliver("notifications.on_patient_created", again)
    assert [m["kind"] for m in clinic.notifications(patient)] == ["welcome", "welcome"]


@pytest.mark.reactions
def test_a_failed_handling_is_not_remembered(clinic: Clinic) -> None:
    """A handler that raised left no inbox row: the redelivery of that id runs it again."""
    patient_id = "e" * 32
    good = Envelope(
        id="9" * 32,
        type="invoice.paid",
        payload={
            "invoice_id": "1" * 32,
            "patient_id": patient_id,
            "currency": "EUR",
            "amount_cents": 100,
        },
        correlation_id="9" * 32,
    )
    poisoned = good.replace(payload={**good.payload, "amount_cents": "NaN"})
    with clinic.app.app_context():
        event_bus.deliver("notifications.on_patient_created", _created(patient_id))
        with pytest.raises(PayloadSchemaError):  # a worker admits what publish() accepts
            event_bus.deliver("notifications.on_invoice_paid", poisoned)
        event_bus.configure(validate=False)  # as a worker with validation off would run it
        try:
            with pytest.raises(ValueError, match="invalid literal"):
                event_bus.deliver("notifications.on_invoice_paid", poisoned)
        finally:
            event_bus.configure(validate=True)
        event_bus.deliver("notifications.on_invoice_paid", good)
        event_bus.deliver("notifications.on_invoice_paid", good)
    assert [m["kind"] for m in clinic.notifications(patient_id)] == ["welcome", "payment_receipt"]


def _created(patient_id: str) -> Envelope:
    return Envelope(
        id="8" * 32,
        type="patient.created",
        payload={"patient_id": patient_id, "clinic_id": "main", "email": "e@example.org"},
        correlation_id="8" * 32,
    )
