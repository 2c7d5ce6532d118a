"""Sending is at least once; the sender's idempotency key makes a retry harmless.

A worker killed after the sender handed a message to its provider and before the handler's
transaction committed leaves no inbox row: the event is delivered again and the sender is
called again. Both calls carry the same ``idempotency_key`` (derived from the event id and the
handler id), so a provider that deduplicates on it delivers once; the database holds the
message once. Before the key existed, the retry was a second, indistinguishable message.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.core.events import Envelope, event_bus
from app.core.persistence import stable_id
from modules.notifications import OutgoingMessage, Sender
from tests.modules.clinic import Clinic, future

PATIENT = "f" * 32


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, the transaction never commits."""


class DeduplicatingProvider:
    """A provider that acts once per idempotency key; the worker dies after its first call."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.delivered: dict[str, OutgoingMessage] = {}
        self.kill_after_next_call = True

    def send(self, message: OutgoingMessage) -> None:
        self.calls.append(message.idempotency_key)
        self.delivered.setdefault(message.idempotency_key, message)
        if self.kill_after_next_call:
            self.kill_after_next_call = False
            raise WorkerKilled


def _envelope(event_id: str, event_type: str, payload: dict[str, Any]) -> Envelope:
    return Envelope(id=event_id, type=event_type, payload=payload, correlation_id=event_id)


CREATED = _envelope(
    "1" * 32,
    "patient.created",
    {"patient_id": PATIENT, "clinic_id": "main", "full_name": "Ada", "email": "a@example.org"},
)


def _provider(clinic: Clinic) -> DeduplicatingProvider:
    provider = DeduplicatingProvider()
    assert isinstance(provider, Sender)
    clinic.app.extensions["notifications"].sender = provider
    return provider


def test_a_send_retried_after_a_crash_has_the_same_key(clinic: Clinic) -> None:
    provider = _provider(clinic)
    with clinic.app.app_context():
        with pytest.raises(WorkerKilled):
            event_bus.deliver("notifications.on_patient_created", CREATED)
        event_bus.deliver("notifications.on_patient_created", CREATED)  # redelivered
        event_bus.deliver("notifications.on_patient_created", CREATED)  # handled: skipped
    key = stable_id(f"{CREATED.id}:notifications.on_patient_created")
    assert provider.calls == [key, key]
    assert list(provider.delivered) == [key]
    (message,) = clinic.notifications(PATIENT)
    assert (message["id"], message["status"], message["kind"]) == (key, "sent", "welcome")


def test_a_pending_message_retried_after_a_crash_has_the_same_key(clinic: Clinic) -> None:
    """The message waited for contact details; the handling that delivers it is retried."""
    scheduled = _envelope(
        "2" * 32,
        "appointment.scheduled",
        {
            "appointment_id": "3" * 32,
            "patient_id": PATIENT,
            "starts_at": future(),
            "duration_minutes": 30,
        },
    )
    updated = _envelope(
        "4" * 32,
        "patient.updated",
        {**CREATED.payload, "phone": None, "changed": ["email"]},
    )
    provider = _provider(clinic)
    with clinic.app.app_context():
        event_bus.deliver("notifications.on_appointment_scheduled", scheduled)  # no contact yet
        with pytest.raises(WorkerKilled):
            event_bus.deliver("notifications.on_patient_updated", updated)
        event_bus.deliver("notifications.on_patient_updated", updated)
    key = stable_id(f"{scheduled.id}:notifications.on_appointment_scheduled")
    assert provider.calls == [key, key]
    (message,) = clinic.notifications(PATIENT)
    assert (message["id"], message["status"]) == (key, "sent")
