"""What other modules may read from patients (a synchronous read; ``depends: [patients]``).

Only modules that list ``patients`` in ``manifest.depends`` import this, and only this: the
models and the service stay private to the module.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.db import db

from .models import ARCHIVED, Patient

__all__ = ["PatientRef", "find_patient"]


@dataclass(frozen=True)
class PatientRef:
    """The little another module needs to know about a patient."""

    id: str
    clinic_id: str
    archived: bool


def find_patient(patient_id: str) -> PatientRef | None:
    """The patient's reference, or ``None`` when no patient has this id (archived ones too)."""
    row = db.session.execute(
        select(Patient.id, Patient.clinic_id, Patient.status).where(Patient.id == patient_id)
    ).first()
    if row is None:
        return None
    return PatientRef(row.id, row.clinic_id, row.status == ARCHIVED)
