"""The appointments HTTP API (JSON): ``/appointments``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from app.core.http import operation, require_id

from . import service
from .bodies import (
    AppointmentList,
    AppointmentListQuery,
    AppointmentOut,
    Cancel,
    Reschedule,
    Schedule,
)

__all__ = ["blueprint"]

blueprint = Blueprint("appointments", __name__, url_prefix="/appointments")
Response = tuple[dict[str, Any], int]


@blueprint.post("")
@operation(body=Schedule, responses={201: AppointmentOut}, errors=(404, 409))
def schedule(body: dict[str, Any]) -> Response:
    """Book: 201; 404 unknown patient; 409 archived patient."""
    return service.schedule_appointment(body).to_dict(), 201


@blueprint.get("")
@operation(query=AppointmentListQuery, responses={200: AppointmentList})
def index(query: AppointmentListQuery) -> Response:
    """Appointments by start time: ``?patient_id=...&limit=100``."""
    items = service.list_appointments(query.patient_id, query.limit)
    return {"items": [appointment.to_dict() for appointment in items]}, 200


@blueprint.get("/<appointment_id>")
@operation(responses={200: AppointmentOut})
def show(appointment_id: str) -> Response:
    """One appointment, or 404."""
    return service.get_appointment(require_id(appointment_id, "appointment")).to_dict(), 200


@blueprint.post("/<appointment_id>/reschedule")
@operation(body=Reschedule, responses={200: AppointmentOut}, errors=(409,))
def reschedule(appointment_id: str, body: dict[str, Any]) -> Response:
    """Move it: 200; 409 unless scheduled."""
    require_id(appointment_id, "appointment")
    return service.reschedule_appointment(appointment_id, body).to_dict(), 200


@blueprint.post("/<appointment_id>/cancel")
@operation(body=Cancel, optional_body=True, responses={200: AppointmentOut}, errors=(409,))
def cancel(appointment_id: str, body: dict[str, Any]) -> Response:
    """Cancel it (optional ``reason``): 200; 409 if already cancelled or completed."""
    require_id(appointment_id, "appointment")
    return service.cancel_appointment(appointment_id, body.get("reason")).to_dict(), 200


@blueprint.post("/<appointment_id>/complete")
@operation(accepts_empty_body=True, responses={200: AppointmentOut}, errors=(409,))
def complete(appointment_id: str) -> Response:
    """Mark it held: 200; 409 unless scheduled."""
    require_id(appointment_id, "appointment")
    return service.complete_appointment(appointment_id).to_dict(), 200
