"""The timeline's table: ``patient_timeline_entry``, one row per event about a patient."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model

__all__ = ["Entry"]


class Entry(Model):
    """An event on a patient's timeline. ``occurred_at`` is the event's own time (RFC 3339,
    UTC, fixed width, so text order is time order); ``seq`` breaks ties in arrival order."""

    __tablename__ = "patient_timeline_entry"
    __table_args__ = (Index("ix_patient_timeline_patient_time", "patient_id", "occurred_at"),)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    patient_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[str] = mapped_column(String(40))
    producer: Mapped[str] = mapped_column(String(100))
    correlation_id: Mapped[str] = mapped_column(String(128))
    causation_id: Mapped[str | None] = mapped_column(String(128))
    summary: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    def to_dict(self) -> dict[str, Any]:
        """The entry as the API returns it."""
        return {
            "seq": self.seq,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "occurred_at": self.occurred_at,
            "producer": self.producer,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "summary": self.summary,
            "data": self.data,
        }
