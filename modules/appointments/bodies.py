"""The appointments API's bodies: what it accepts (validated) and what it answers (documented)."""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import BaseModel, Field, with_config
from typing_extensions import TypedDict

from app.core.validation import STRICT, FutureInstant, Id, Range, Text

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
Duration = Annotated[int, Range(5, 480)]
Reason = Annotated[str, Text(max_length=500)]


@with_config(STRICT)
class Schedule(TypedDict):
    """An appointment to book (``duration_minutes`` defaults to 30)."""

    patient_id: Id
    starts_at: FutureInstant
    duration_minutes: NotRequired[Duration]
    reason: NotRequired[Reason | None]


@with_config(STRICT)
class Reschedule(TypedDict):
    """The new time (and optionally duration) of an appointment."""

    starts_at: FutureInstant
    duration_minutes: NotRequired[Duration]


@with_config(STRICT)
class Cancel(TypedDict, total=False):
    """Why the appointment is cancelled (optional)."""

    reason: Reason | None


class AppointmentListQuery(BaseModel):
    """``?patient_id=...&limit=100``."""

    patient_id: Id | None = None
    limit: Annotated[int, Range(1, 1000)] = 100


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
