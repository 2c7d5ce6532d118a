"""The appointments HTTP API (JSON): ``/appointments``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from app.core.http import json_body, query_id, query_int, require_id

from . import service
from .bodies import CANCEL, RESCHEDULE, SCHEDULE

__all__ = ["blueprint"]

blueprint = Blueprint("appointments", __name__, url_prefix="/appointments")
Response = tuple[dict[str, Any], int]


@blueprint.post("")
def schedule() -> Response:
    """Book: 201; 404 unknown patient; 409 archived patient."""
    return service.schedule_appointment(SCHEDULE.load(json_body())).to_dict(), 201


@blueprint.get("")
def index() -> Response:
    """Appointments by start time: ``?patient_id=...&limit=100``."""
    items = service.list_appointments(query_id("patient_id"), query_int("limit", 100))
    return {"items": [appointment.to_dict() for appointment in items]}, 200


@blueprint.get("/<appointment_id>")
def show(appointment_id: str) -> Response:
    """One appointment, or 404."""
    return service.get_appointment(require_id(appointment_id, "appointment")).to_dict(), 200


@blueprint.post("/<appointment_id>/reschedule")
def reschedule(appointment_id: str) -> Response:
    """Move it: 200; 409 unless scheduled."""
    require_id(appointment_id, "appointment")
    data = RESCHEDULE.load(json_body())
    return service.reschedule_appointment(appointment_id, data).to_dict(), 200


@blueprint.post("/<appointment_id>/cancel")
def cancel(appointment_id: str) -> Response:
    """Cancel it (optional ``reason``): 200; 409 if already cancelled or completed."""
    require_id(appointment_id, "appointment")
    data = CANCEL.load(json_body(optional=True))
    return service.cancel_appointment(appointment_id, data.get("reason")).to_dict(), 200


@blueprint.post("/<appointment_id>/complete")
def complete(appointment_id: str) -> Response:
    """Mark it held: 200; 409 unless scheduled."""
    require_id(appointment_id, "appointment")
    json_body(optional=True)
    return service.complete_appointment(appointment_id).to_dict(), 200
