"""The appointments API's bodies: what it accepts (validated) and what it answers (documented)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.core.validation import FutureInstant, Id, StrictModel, Text, bounded_int

__all__ = [
    "DEFAULT_DURATION",
    "AppointmentList",
    "AppointmentListQuery",
    "AppointmentOut",
    "Cancel",
    "Reschedule",
    "Schedule",
]

DEFAULT_DURATION = 30
Duration = bounded_int(5, 480)
Reason = Text(max_length=500)


class Schedule(StrictModel):
    """An appointment to book (``duration_minutes`` defaults to 30)."""

    patient_id: Id
    starts_at: FutureInstant
    duration_minutes: Duration = None  # type: ignore[valid-type]
    reason: Reason | None = None  # type: ignore[valid-type]


class Reschedule(StrictModel):
    """The new time (and optionally duration) of an appointment."""

    starts_at: FutureInstant
    duration_minutes: Duration = None  # type: ignore[valid-type]


class Cancel(StrictModel):
    """Why the appointment is cancelled (optional)."""

    reason: Reason | None = None  # type: ignore[valid-type]


class AppointmentListQuery(BaseModel):
    """``?patient_id=...&limit=100``."""

    patient_id: Id | None = None
    limit: bounded_int(1, 1000) = 100  # type: ignore[valid-type]


class AppointmentOut(BaseModel):
    """An appointment as the API returns it."""

    id: str
    patient_id: str
    starts_at: str = Field(json_schema_extra={"format": "date-time"})
    duration_minutes: int
    reason: str | None
    status: Literal["scheduled", "cancelled", "completed"]
    cancel_reason: str | None
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})


class AppointmentList(BaseModel):
    """Appointments by start time."""

    items: list[AppointmentOut]
