"""The patients HTTP API (JSON): ``/patients``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from app.core.http import invalid, json_body, query_int, require_id

from . import service
from .bodies import CREATE_PATIENT, UPDATE_PATIENT
from .models import ACTIVE, ARCHIVED

__all__ = ["blueprint"]

blueprint = Blueprint("patients", __name__, url_prefix="/patients")
Response = tuple[dict[str, Any], int]


@blueprint.post("")
def create() -> Response:
    """Register a patient: 201 with the patient."""
    patient = service.create_patient(CREATE_PATIENT.load(json_body()))
    return patient.to_dict(), 201


@blueprint.get("")
def index() -> Response:
    """A page of patients: ``?page=1&per_page=20&status=active|archived``."""
    status = request.args.get("status")
    if status is not None and status not in (ACTIVE, ARCHIVED):
        raise invalid({"status": "must be one of: active, archived"}, "invalid query parameter")
    page = service.list_patients(
        query_int("page", 1, maximum=1_000_000), query_int("per_page", 20, maximum=100), status
    )
    return {
        "items": [patient.to_dict() for patient in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
    }, 200


@blueprint.get("/<patient_id>")
def show(patient_id: str) -> Response:
    """One patient, or 404."""
    return service.get_patient(require_id(patient_id, "patient")).to_dict(), 200


@blueprint.patch("/<patient_id>")
def update(patient_id: str) -> Response:
    """Change some of full_name, date_of_birth, email, phone: 200, 404, or 409 if archived."""
    require_id(patient_id, "patient")
    changes = UPDATE_PATIENT.load(json_body(), partial=True)
    return service.update_patient(patient_id, changes).to_dict(), 200


@blueprint.post("/<patient_id>/archive")
def archive(patient_id: str) -> Response:
    """Archive the patient: 200, 404, or 409 if already archived."""
    require_id(patient_id, "patient")
    json_body(optional=True)
    return service.archive_patient(patient_id).to_dict(), 200
