"""The patients HTTP API (JSON): ``/patients``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from app.core.http import operation, require_id

from . import service
from .bodies import CreatePatient, PatientList, PatientListQuery, PatientOut, UpdatePatient

__all__ = ["blueprint"]

blueprint = Blueprint("patients", __name__, url_prefix="/patients")
Response = tuple[dict[str, Any], int]


@blueprint.post("")
@operation(body=CreatePatient, responses={201: PatientOut})
def create(body: dict[str, Any]) -> Response:
    """Register a patient: 201 with the patient."""
    return service.create_patient(body).to_dict(), 201


@blueprint.get("")
@operation(query=PatientListQuery, responses={200: PatientList})
def index(query: PatientListQuery) -> Response:
    """A page of patients, oldest first: ``?page=1&per_page=20&status=active|archived``."""
    page = service.list_patients(query.page, query.per_page, query.status)
    return {
        "items": [patient.to_dict() for patient in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
    }, 200


@blueprint.get("/<patient_id>")
@operation(responses={200: PatientOut})
def show(patient_id: str) -> Response:
    """One patient, or 404."""
    return service.get_patient(require_id(patient_id, "patient")).to_dict(), 200


@blueprint.patch("/<patient_id>")
@operation(body=UpdatePatient, responses={200: PatientOut}, errors=(409,))
def update(patient_id: str, body: dict[str, Any]) -> Response:
    """Change some of full_name, date_of_birth, email, phone: 200, 404, or 409 if archived."""
    require_id(patient_id, "patient")
    return service.update_patient(patient_id, body).to_dict(), 200


@blueprint.post("/<patient_id>/archive")
@operation(accepts_empty_body=True, responses={200: PatientOut}, errors=(409,))
def archive(patient_id: str) -> Response:
    """Archive the patient: 200, 404, or 409 if already archived."""
    require_id(patient_id, "patient")
    return service.archive_patient(patient_id).to_dict(), 200
