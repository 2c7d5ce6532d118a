"""Notifications: every reaction, channels and statuses, the sender interface, the read API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.core.events import Envelope, EventType, event_bus
from app.core.events.testing import EventRecorder
from modules.notifications import OutgoingMessage, Sender
from modules.notifications.sender import RecordingSender
from tests.modules.clinic import Clinic, assert_error, future

MISSING_ID = "0" * 32

pytestmark = pytest.mark.reactions


def sender_of(clinic: Clinic) -> RecordingSender:
    sender = clinic.app.extensions["notifications"].sender
    assert isinstance(sender, RecordingSender)
    return sender


def kinds(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(message["kind"], message["status"]) for message in messages]


def test_welcome_by_email(clinic: Clinic, published_events: EventRecorder) -> None:
    patient = clinic.create_patient(full_name="Ada Lovelace", email="ada@example.org")
    (message,) = clinic.notifications(patient["id"])
    assert (message["kind"], message["status"], message["channel"]) == ("welcome", "sent", "email")
    assert message["recipient"] == "ada@example.org"
    assert message["subject"] == "Welcome to the clinic"
    assert message["body"].startswith("Hello Ada Lovelace, welcome")
    assert message["sent_at"]
    (sent,) = sender_of(clinic).sent
    assert (sent.notification_id, sent.channel, sent.kind) == (message["id"], "email", "welcome")
    assert published_events.of_type("notification.sent") == [
        {
            "notification_id": message["id"],
            "patient_id": patient["id"],
            "kind": "welcome",
            "channel": "email",
        }
    ]
    created = next(e.envelope for e in published_events if e.type == "patient.created")
    assert created is not None and message["source_event_id"] == created.id


def test_welcome_by_sms_when_there_is_only_a_phone(clinic: Clinic) -> None:
    patient = clinic.create_patient(email=None, phone="+34 600 000 000")
    (message,) = clinic.notifications(patient["id"])
    assert (message["channel"], message["recipient"], message["status"]) == (
        "sms",
        "+34 600 000 000",
        "sent",
    )


def test_skipped_without_any_contact(clinic: Clinic, published_events: EventRecorder) -> None:
    patient = clinic.create_patient(email=None)
    (message,) = clinic.notifications(patient["id"])
    assert (message["status"], message["channel"]) == ("skipped", None)
    assert "no e-mail address" in message["error"]
    published_events.assert_not_published("notification.sent")
    assert list(sender_of(clinic).sent) == []


def test_appointment_messages(clinic: Clinic) -> None:
    # Messages are listed in the order they were created. Workers run different handlers
    # concurrently, so each request's reaction settles before the next request.
    patient = clinic.create_patient()["id"]
    clinic.settle()
    appointment = clinic.schedule(patient, starts_at=future(days=4, hour=9))["id"]
    clinic.settle()
    clinic.post(
        f"/appointments/{appointment}/reschedule", {"starts_at": future(days=5, hour=11)}, 200
    )
    clinic.settle()
    clinic.post(f"/appointments/{appointment}/cancel", expect=200)
    clinic.settle()
    other = clinic.schedule(patient)["id"]
    clinic.post(f"/appointments/{other}/complete", expect=200)
    messages = clinic.notifications(patient)
    assert kinds(messages) == [
        ("welcome", "sent"),
        ("appointment_scheduled", "sent"),
        ("appointment_rescheduled", "sent"),
        ("appointment_cancelled", "sent"),
        ("appointment_scheduled", "sent"),
    ]
    day4, day5 = future(days=4, hour=9), future(days=5, hour=11)
    readable = [f"{day[:10]} {day[11:16]} UTC" for day in (day4, day5)]
    assert f"booked for {readable[0]} (30 minutes)" in messages[1]["body"]
    assert f"on {readable[0]} has moved to {readable[1]}" in messages[2]["body"]
    assert f"on {readable[1]} is cancelled" in messages[3]["body"]


def test_receipt_only_when_fully_paid(clinic: Clinic) -> None:
    patient = clinic.create_patient()["id"]
    invoice = clinic.issue_invoice(patient)["id"]
    clinic.pay(invoice, 5000)
    assert kinds(clinic.notifications(patient)) == [("welcome", "sent")]
    clinic.pay(invoice, 7000)
    receipt = clinic.notifications(patient)[-1]
    assert (receipt["kind"], receipt["status"]) == ("payment_receipt", "sent")
    assert "we received 120.00 EUR for invoice" in receipt["body"]


def test_new_contact_details_are_used(clinic: Clinic) -> None:
    # Each reaction settles before the next request: the welcome goes out before the update
    # (a worker that applies the update first rightly welcomes on the newer details).
    patient = clinic.create_patient(email="old@example.org")["id"]
    clinic.settle()
    clinic.patch(f"/patients/{patient}", {"email": None, "phone": "+1 555 0100"})
    clinic.settle()
    clinic.schedule(patient)
    messages = clinic.notifications(patient)
    assert [(m["kind"], m["channel"], m["recipient"]) for m in messages] == [
        ("welcome", "email", "old@example.org"),
        ("appointment_scheduled", "sms", "+1 555 0100"),
    ]


def test_a_message_waits_for_contact_details_that_arrive_later(clinic: Clinic) -> None:
    """Workers may handle ``appointment.scheduled`` before ``patient.created``."""
    patient_id = "a" * 32
    scheduled = Envelope(
        id="1" * 32,
        type=EventType.APPOINTMENT_SCHEDULED,
        payload={
            "appointment_id": "b" * 32,
            "patient_id": patient_id,
            "starts_at": future(),
            "duration_minutes": 30,
        },
        correlation_id="c" * 32,
    )
    created = Envelope(
        id="2" * 32,
        type=EventType.PATIENT_CREATED,
        payload={"patient_id": patient_id, "clinic_id": "main", "email": "late@example.org"},
        correlation_id="c" * 32,
    )
    with clinic.app.app_context():
        event_bus.deliver("notifications.on_appointment_scheduled", scheduled)
        assert kinds(clinic.notifications(patient_id)) == [("appointment_scheduled", "pending")]
        event_bus.deliver("notifications.on_patient_created", created)
    messages = clinic.notifications(patient_id)
    assert kinds(messages) == [("appointment_scheduled", "sent"), ("welcome", "sent")]
    assert {m["recipient"] for m in messages} == {"late@example.org"}


def test_older_contact_details_do_not_overwrite_newer_ones(clinic: Clinic) -> None:
    patient_id = "d" * 32

    def envelope(event_id: str, event_type: str, occurred_at: str, **payload: Any) -> Envelope:
        return Envelope(
            id=event_id,
            type=event_type,
            payload={"patient_id": patient_id, "clinic_id": "main", **payload},
            correlation_id=event_id,
            occurred_at=occurred_at,
        )

    updated = envelope(
        "3" * 32,
        EventType.PATIENT_UPDATED,
        "2030-01-02T00:00:00.000000Z",
        changed=["email"],
        full_name="Ada",
        email="new@example.org",
        phone=None,
    )
    created = envelope(
        "4" * 32, EventType.PATIENT_CREATED, "2030-01-01T00:00:00.000000Z", email="old@example.org"
    )
    with clinic.app.app_context():
        event_bus.deliver("notifications.on_patient_updated", updated)
        event_bus.deliver("notifications.on_patient_created", created)
    (welcome,) = clinic.notifications(patient_id)
    assert welcome["recipient"] == "new@example.org"


class FailingSender:
    def __init__(self) -> None:
        self.attempts: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        self.attempts.append(message)
        raise ConnectionError("mail server down")


@pytest.mark.reactions(local_handlers=True)  # swaps the app's sender
def test_a_sender_failure_is_stored_not_lost(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    failing = FailingSender()
    assert isinstance(failing, Sender)
    clinic.app.extensions["notifications"].sender = failing
    patient = clinic.create_patient()
    (message,) = clinic.notifications(patient["id"])
    assert (message["status"], message["error"], message["channel"]) == (
        "failed",
        "ConnectionError",
        "email",
    )
    assert len(failing.attempts) == 1
    published_events.assert_not_published("notification.sent")


@pytest.mark.reactions(local_handlers=True)  # reads the handlers' logs
def test_logs_carry_ids_but_no_personal_data(
    make_clinic: Callable[..., Clinic], capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = make_clinic(LOG_LEVEL="DEBUG")
    patient = clinic.create_patient(full_name="Zelda Secretname", email="zelda@secret.example")
    clinic.schedule(patient["id"])
    clinic.settle()
    logs = capsys.readouterr().err
    assert patient["id"] in logs
    for secret in ("Zelda", "Secretname", "zelda@secret.example"):
        assert secret not in logs


def test_read_endpoints(clinic: Clinic) -> None:
    patient = clinic.create_patient()["id"]
    (message,) = clinic.notifications(patient)
    assert clinic.get(f"/notifications/{message['id']}") == message
    assert clinic.get(f"/notifications/patients/{MISSING_ID}")["items"] == []
    assert_error(clinic.call("GET", f"/notifications/{MISSING_ID}"), 404, "notification_not_found")
    assert_error(clinic.call("GET", "/notifications/patients/bad"), 404, "patient_not_found")
    assert_error(
        clinic.call("GET", f"/notifications/patients/{patient}?limit=0"),
        400,
        "invalid_request",
        {"limit": "must be greater than zero"},
    )
