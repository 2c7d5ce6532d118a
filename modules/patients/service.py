"""Patients: create, read, list, update, archive. Each write publishes after its commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.core.events import EventType
from app.core.events.payloads import PatientArchived, PatientCreated, PatientUpdated
from app.core.http import conflict
from app.core.persistence import get_or_404, new_id, publish_after_commit, utcnow, write_transaction
from app.db import db

from .models import ACTIVE, ARCHIVED, Patient

__all__ = [
    "DEFAULT_CLINIC",
    "PatientPage",
    "archive_patient",
    "create_patient",
    "get_patient",
    "list_patients",
    "update_patient",
]

DEFAULT_CLINIC = "main"
_CONTACT_FIELDS = ("full_name", "date_of_birth", "email", "phone")


@dataclass(frozen=True)
class PatientPage:
    """One page of patients, oldest first, and the total count."""

    items: list[Patient]
    page: int
    per_page: int
    total: int


def create_patient(data: dict[str, Any]) -> Patient:
    """Register a patient; publishes ``patient.created`` after the commit."""
    with write_transaction():
        patient = Patient(
            id=new_id(),
            clinic_id=data.get("clinic_id") or DEFAULT_CLINIC,
            full_name=data["full_name"],
            date_of_birth=data.get("date_of_birth"),
            email=data.get("email"),
            phone=data.get("phone"),
            status=ACTIVE,
        )
        db.session.add(patient)
        payload: PatientCreated = {
            "patient_id": patient.id,
            "clinic_id": patient.clinic_id,
            "full_name": patient.full_name,
            "email": patient.email,
            "phone": patient.phone,
        }
        publish_after_commit(EventType.PATIENT_CREATED, payload)
    return patient


def get_patient(patient_id: str, *, for_update: bool = False) -> Patient:
    """The patient, or 404 ``patient_not_found``."""
    return get_or_404(Patient, patient_id, "patient", for_update=for_update)


def list_patients(page: int, per_page: int, status: str | None) -> PatientPage:
    """A page of patients (optionally only ``active`` or ``archived`` ones), oldest first."""
    query = select(Patient)
    count = select(func.count()).select_from(Patient)
    if status is not None:
        query = query.where(Patient.status == status)
        count = count.where(Patient.status == status)
    query = query.order_by(Patient.created_at, Patient.id)
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    total = db.session.scalar(count) or 0
    return PatientPage(list(items), page, per_page, total)


def update_patient(patient_id: str, changes: dict[str, Any]) -> Patient:
    """Apply ``changes``; publishes ``patient.updated`` when something changed. 409 if archived."""
    with write_transaction():
        patient = get_patient(patient_id, for_update=True)
        if patient.status == ARCHIVED:
            raise conflict("patient_archived", "an archived patient cannot be changed")
        changed = [
            name
            for name in _CONTACT_FIELDS
            if name in changes and getattr(patient, name) != changes[name]
        ]
        if not changed:
            db.session.rollback()
            return patient
        for name in changed:
            setattr(patient, name, changes[name])
        patient.updated_at = utcnow()
        payload: PatientUpdated = {
            "patient_id": patient.id,
            "clinic_id": patient.clinic_id,
            "changed": changed,
            "full_name": patient.full_name,
            "email": patient.email,
            "phone": patient.phone,
        }
        publish_after_commit(EventType.PATIENT_UPDATED, payload)
    return patient


def archive_patient(patient_id: str) -> Patient:
    """Archive the patient; publishes ``patient.archived``. 409 if already archived."""
    with write_transaction():
        patient = get_patient(patient_id, for_update=True)
        if patient.status == ARCHIVED:
            raise conflict("patient_archived", "the patient is already archived")
        now = utcnow()
        patient.status = ARCHIVED
        patient.archived_at = now
        patient.updated_at = now
        payload: PatientArchived = {"patient_id": patient.id, "clinic_id": patient.clinic_id}
        publish_after_commit(EventType.PATIENT_ARCHIVED, payload)
    return patient
