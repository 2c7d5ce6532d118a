"""Patients: register, read, list, update and archive patients.

Publishes ``patient.created``, ``patient.updated``, ``patient.archived``. Its public API for
modules that depend on it is :func:`find_patient` (see ``public.py``).
"""

from __future__ import annotations

from flask import Blueprint

from app.core.modules import BaseModule, Manifest

from .public import PatientRef, find_patient
from .views import blueprint

__all__ = ["PatientRef", "PatientsModule", "find_patient"]


class PatientsModule(BaseModule):
    """The patients module: a JSON API under ``/patients``; consumes no events."""

    manifest = Manifest(
        name="patients",
        version="1.0.0",
        description="Patient registry: create, read, list, update, archive.",
    )

    def get_blueprint(self) -> Blueprint:
        return blueprint
