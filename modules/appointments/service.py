"""Appointments: schedule, reschedule, cancel, complete. Each publishes after its commit.

Scheduling and rescheduling read the patient synchronously through ``modules.patients``'s
public API (this module depends on patients): unknown patient 404, archived patient 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.core.events import EventType
from app.core.events.payloads import (
    AppointmentCancelled,
    AppointmentCompleted,
    AppointmentRescheduled,
    AppointmentScheduled,
)
from app.core.http import conflict, not_found
from app.core.persistence import (
    get_or_404,
    iso_utc,
    new_id,
    publish_after_commit,
    utcnow,
    write_transaction,
)
from app.db import db
from modules.patients import find_patient

from .bodies import DEFAULT_DURATION
from .models import CANCELLED, COMPLETED, SCHEDULED, Appointment

__all__ = [
    "cancel_appointment",
    "complete_appointment",
    "get_appointment",
    "list_appointments",
    "reschedule_appointment",
    "schedule_appointment",
]


def schedule_appointment(data: dict[str, Any]) -> Appointment:
    """Book an appointment; publishes ``appointment.scheduled``."""
    with write_transaction():
        _require_active_patient(data["patient_id"])
        appointment = Appointment(
            id=new_id(),
            patient_id=data["patient_id"],
            starts_at=data["starts_at"],
            duration_minutes=data.get("duration_minutes") or DEFAULT_DURATION,
            reason=data.get("reason"),
            status=SCHEDULED,
        )
        db.session.add(appointment)
        payload: AppointmentScheduled = {
            "appointment_id": appointment.id,
            "patient_id": appointment.patient_id,
            "starts_at": iso_utc(appointment.starts_at),
            "duration_minutes": appointment.duration_minutes,
        }
        publish_after_commit(EventType.APPOINTMENT_SCHEDULED, payload)
    return appointment


def reschedule_appointment(appointment_id: str, data: dict[str, Any]) -> Appointment:
    """Move a scheduled appointment; publishes ``appointment.rescheduled``."""
    with write_transaction():
        appointment = get_appointment(appointment_id, for_update=True)
        _require_scheduled(appointment, "rescheduled")
        _require_active_patient(appointment.patient_id)
        previous: datetime = appointment.starts_at
        appointment.starts_at = data["starts_at"]
        appointment.duration_minutes = data.get("duration_minutes") or appointment.duration_minutes
        appointment.updated_at = utcnow()
        payload: AppointmentRescheduled = {
            "appointment_id": appointment.id,
            "patient_id": appointment.patient_id,
            "starts_at": iso_utc(appointment.starts_at),
            "previous_starts_at": iso_utc(previous),
            "duration_minutes": appointment.duration_minutes,
        }
        publish_after_commit(EventType.APPOINTMENT_RESCHEDULED, payload)
    return appointment


def cancel_appointment(appointment_id: str, reason: str | None) -> Appointment:
    """Cancel a scheduled appointment; publishes ``appointment.cancelled``. 409 otherwise."""
    with write_transaction():
        appointment = get_appointment(appointment_id, for_update=True)
        _require_scheduled(appointment, "cancelled")
        appointment.status = CANCELLED
        appointment.cancel_reason = reason
        appointment.updated_at = utcnow()
        payload: AppointmentCancelled = {
            "appointment_id": appointment.id,
            "patient_id": appointment.patient_id,
            "starts_at": iso_utc(appointment.starts_at),
            "reason": reason,
        }
        publish_after_commit(EventType.APPOINTMENT_CANCELLED, payload)
    return appointment


def complete_appointment(appointment_id: str) -> Appointment:
    """Mark a scheduled appointment as held; publishes ``appointment.completed``."""
    with write_transaction():
        appointment = get_appointment(appointment_id, for_update=True)
        _require_scheduled(appointment, "completed")
        appointment.status = COMPLETED
        appointment.updated_at = utcnow()
        payload: AppointmentCompleted = {
            "appointment_id": appointment.id,
            "patient_id": appointment.patient_id,
        }
        publish_after_commit(EventType.APPOINTMENT_COMPLETED, payload)
    return appointment


def get_appointment(appointment_id: str, *, for_update: bool = False) -> Appointment:
    """The appointment, or 404 ``appointment_not_found``."""
    return get_or_404(Appointment, appointment_id, "appointment", for_update=for_update)


def list_appointments(patient_id: str | None, limit: int) -> list[Appointment]:
    """Appointments by start time, optionally of one patient."""
    query = select(Appointment).order_by(Appointment.starts_at, Appointment.id).limit(limit)
    if patient_id is not None:
        query = query.where(Appointment.patient_id == patient_id)
    return list(db.session.scalars(query).all())


def _require_active_patient(patient_id: str) -> None:
    patient = find_patient(patient_id)
    if patient is None:
        raise not_found("patient")
    if patient.archived:
        raise conflict("patient_archived", "the patient is archived")


def _require_scheduled(appointment: Appointment, action: str) -> None:
    if appointment.status != SCHEDULED:
        raise conflict(
            f"appointment_{appointment.status}",
            f"a {appointment.status} appointment cannot be {action}",
        )
