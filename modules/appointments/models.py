"""The appointments module's table: ``appointments_appointment``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.persistence import UtcDateTime, iso_utc, new_id, utcnow
from app.db import Model

__all__ = ["CANCELLED", "COMPLETED", "SCHEDULED", "Appointment"]

SCHEDULED = "scheduled"
CANCELLED = "cancelled"
COMPLETED = "completed"


class Appointment(Model):
    """A booked slot for a patient. ``patient_id`` is a reference, not a foreign key: the
    patients table belongs to another module."""

    __tablename__ = "appointments_appointment"
    __table_args__ = (Index("ix_appointments_patient_starts", "patient_id", "starts_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    patient_id: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_minutes: Mapped[int]
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        """The appointment as the API returns it."""
        return {
            "id": self.id,
            "patient_id": self.patient_id,
            "starts_at": iso_utc(self.starts_at),
            "duration_minutes": self.duration_minutes,
            "reason": self.reason,
            "status": self.status,
            "cancel_reason": self.cancel_reason,
            "created_at": iso_utc(self.created_at),
            "updated_at": iso_utc(self.updated_at),
        }
