"""The patients module's table: ``patients_patient``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.persistence import UtcDateTime, iso_utc, new_id, utcnow
from app.db import Model

__all__ = ["ACTIVE", "ARCHIVED", "Patient"]

ACTIVE = "active"
ARCHIVED = "archived"


class Patient(Model):
    """A registered patient. Archived patients are kept (and readable), never deleted."""

    __tablename__ = "patients_patient"
    __table_args__ = (Index("ix_patients_patient_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    def to_dict(self) -> dict[str, Any]:
        """The patient as the API returns it."""
        return {
            "id": self.id,
            "clinic_id": self.clinic_id,
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "email": self.email,
            "phone": self.phone,
            "status": self.status,
            "created_at": iso_utc(self.created_at),
            "updated_at": iso_utc(self.updated_at),
            "archived_at": iso_utc(self.archived_at) if self.archived_at else None,
        }
