"""Publish at the transaction boundary: a transaction that fails publishes nothing.

Each test makes a write fail at COMMIT (a duplicate primary key, as a racing request would
cause; a connection lost after the statements ran): the request answers 500, the database
keeps nothing, and no event was published, so no handler ran (no message, no send, no
timeline entry).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.core.events.testing import EventRecorder
from app.db import db
from modules.notifications.models import Message
from modules.notifications.sender import RecordingSender
from modules.patient_timeline.models import Entry
from tests.modules.clinic import Clinic


def counts(clinic: Clinic) -> dict[str, int]:
    clinic.settle()  # reactions handled by workers count too
    with clinic.app.app_context():
        rows = {
            table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
            for table in db.metadata.sorted_tables
            if table.name.startswith(("patients_", "billing_", "notifications_", "patient_"))
        }
        rows["messages"] = db.session.scalar(select(func.count()).select_from(Message)) or 0
        rows["timeline"] = db.session.scalar(select(func.count()).select_from(Entry)) or 0
    sender = clinic.app.extensions["notifications"].sender
    assert isinstance(sender, RecordingSender)
    rows["sent"] = len(sender.sent)
    return rows


@pytest.mark.reactions
def test_a_failed_commit_publishes_nothing(
    clinic: Clinic, published_events: EventRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = clinic.create_patient()["id"]
    before = counts(clinic)
    published_events.clear()
    monkeypatch.setattr("modules.patients.service.new_id", lambda: existing)
    response = clinic.call("POST", "/patients", json={"full_name": "Twin", "email": "t@e.org"})
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert len(published_events) == 0
    assert counts(clinic) == before


@pytest.mark.reactions
def test_a_failed_payment_publishes_neither_of_its_two_events(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    """The payment's SQL reaches the database, then the transaction fails before COMMIT."""
    patient = clinic.create_patient()["id"]
    invoice: dict[str, Any] = clinic.issue_invoice(patient)
    clinic.pay(invoice["id"], 2000)
    before = counts(clinic)
    published_events.clear()
    with failing_after_flush():
        response = clinic.call(
            "POST", f"/invoices/{invoice['id']}/payments", json={"amount_cents": 10000}
        )
    assert response.status_code == 500
    assert len(published_events) == 0  # neither invoice.payment_recorded nor invoice.paid
    assert counts(clinic) == before
    assert clinic.get(f"/invoices/{invoice['id']}")["balance_cents"] == 10000
    assert clinic.pay(invoice["id"], 10000)["invoice"]["status"] == "paid"
    assert {"invoice.payment_recorded", "invoice.paid"} <= set(published_events.types())


@contextmanager
def failing_after_flush() -> Iterator[None]:
    """Make the next flush fail once its statements ran (as a lost connection would)."""

    def fail(session: Session, context: object) -> None:
        raise OperationalError("COMMIT", {}, RuntimeError("simulated: the server went away"))

    event.listen(Session, "after_flush", fail, once=True)
    try:
        yield
    finally:
        if event.contains(Session, "after_flush", fail):
            event.remove(Session, "after_flush", fail)
