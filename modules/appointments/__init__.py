"""Appointments: schedule, reschedule, cancel and complete appointments.

Depends on ``patients`` (a synchronous read through ``modules.patients.find_patient``).
Publishes ``appointment.scheduled``, ``.rescheduled``, ``.cancelled``, ``.completed``.
"""

from __future__ import annotations

from flask import Blueprint

from app.core.modules import BaseModule, Manifest

from .views import blueprint

__all__ = ["AppointmentsModule"]


class AppointmentsModule(BaseModule):
    """The appointments module: a JSON API under ``/appointments``; consumes no events."""

    manifest = Manifest(
        name="appointments",
        version="1.0.0",
        depends=("patients",),
        description="Appointment book: schedule, reschedule, cancel, complete.",
    )

    def get_blueprint(self) -> Blueprint:
        return blueprint
