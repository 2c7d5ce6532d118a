"""Notifications under concurrent handlers, as workers run them (one thread per handler).

A message created while the same patient's contact details are being stored, in two
transactions open at once, must be delivered by one of them. Before the contact row was
locked on both paths, PostgreSQL let each transaction miss the other's write and the message
stayed ``pending`` for good (found by the clinic suite on the outbox profile).
"""

from __future__ import annotations

import threading

from app.core.persistence import handler_transaction
from modules.notifications.service import notify, remember_contact
from tests.modules.clinic import Clinic, future


def test_a_message_created_while_the_contact_arrives_is_delivered(clinic: Clinic) -> None:
    patient_id = "c" * 32
    booked = threading.Event()
    release = threading.Event()
    failures: list[BaseException] = []

    def book() -> None:
        """Create the message (no contact yet) and keep the transaction open until released."""
        try:
            with clinic.app.app_context(), handler_transaction():
                context = {"starts_at": future(), "duration_minutes": 30}
                notify(patient_id, "appointment_scheduled", context, None)
                booked.set()
                release.wait(60)
        except BaseException as exc:
            failures.append(exc)
            booked.set()

    def store_contact() -> None:
        try:
            booked.wait(60)
            with clinic.app.app_context(), handler_transaction():
                remember_contact(
                    patient_id, future(days=0), full_name="Ada", email="a@example.org", phone=None
                )
        except BaseException as exc:
            failures.append(exc)

    booking = threading.Thread(target=book)
    storing = threading.Thread(target=store_contact)
    booking.start()
    storing.start()
    storing.join(0.5)  # give it time to reach the contact row (it waits there now)
    release.set()
    booking.join(60)
    storing.join(60)
    assert not booking.is_alive() and not storing.is_alive()
    assert failures == []
    (message,) = clinic.notifications(patient_id)
    assert (message["status"], message["recipient"]) == ("sent", "a@example.org")
