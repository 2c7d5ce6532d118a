"""The notifications module's tables: ``notifications_message``, ``notifications_contact``.

``notifications_contact`` is this module's own copy of the contact details it needs, kept up
to date from ``patient.created`` / ``patient.updated`` events: it never reads the patients
module's tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.persistence import UtcDateTime, iso_utc, new_id, utcnow
from app.db import Model

__all__ = ["FAILED", "PENDING", "SENT", "SKIPPED", "Contact", "Message"]

PENDING = "pending"  # waiting for the patient's contact details
SENT = "sent"  # handed to the sender
SKIPPED = "skipped"  # the patient has no e-mail address and no phone number
FAILED = "failed"  # the sender raised; ``error`` names the exception class


class Contact(Model):
    """How to reach a patient, as of the latest patient event applied (``as_of``)."""

    __tablename__ = "notifications_contact"

    patient_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    as_of: Mapped[str] = mapped_column(String(40))


class Message(Model):
    """One message to a patient, from the event that caused it (``source_event_id``)."""

    __tablename__ = "notifications_message"
    __table_args__ = (Index("ix_notifications_message_patient", "patient_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    patient_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(40))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    channel: Mapped[str | None] = mapped_column(String(16))
    recipient: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(String(2000))
    error: Mapped[str | None] = mapped_column(String(200))
    source_event_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    def to_dict(self) -> dict[str, Any]:
        """The message as the API returns it."""
        return {
            "id": self.id,
            "patient_id": self.patient_id,
            "kind": self.kind,
            "status": self.status,
            "channel": self.channel,
            "recipient": self.recipient,
            "subject": self.subject,
            "body": self.body,
            "error": self.error,
            "source_event_id": self.source_event_id,
            "created_at": iso_utc(self.created_at),
            "sent_at": iso_utc(self.sent_at) if self.sent_at else None,
        }
