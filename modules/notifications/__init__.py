"""Notifications: welcome, appointment and receipt messages, sent through a sender interface.

No dependencies: it learns everything from events (``patient.created`` / ``.updated`` for
contact details, appointment events, ``invoice.paid``), stores each message with its channel
and status, and publishes ``notification.sent``. Disabling it leaves every publisher working.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from app.core.events import EventType
from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest

from . import handlers
from .sender import NotificationsState, OutgoingMessage, RecordingSender, Sender
from .views import blueprint

__all__ = ["NotificationsModule", "NotificationsState", "OutgoingMessage", "Sender"]


class NotificationsModule(BaseModule):
    """The notifications module: reacts to patient, appointment and payment events."""

    manifest = Manifest(
        name="notifications",
        version="1.0.0",
        description="Messages to patients (welcome, appointments, receipts) via a sender.",
    )

    def get_blueprint(self) -> Blueprint:
        return blueprint

    def get_event_handlers(self) -> dict[str, Handler]:
        return {
            EventType.PATIENT_CREATED: handlers.on_patient_created,
            EventType.PATIENT_UPDATED: handlers.on_patient_updated,
            EventType.APPOINTMENT_SCHEDULED: handlers.on_appointment_scheduled,
            EventType.APPOINTMENT_RESCHEDULED: handlers.on_appointment_rescheduled,
            EventType.APPOINTMENT_CANCELLED: handlers.on_appointment_cancelled,
            EventType.INVOICE_PAID: handlers.on_invoice_paid,
        }

    def init_app(self, app: Flask) -> None:
        app.extensions["notifications"] = NotificationsState(sender=RecordingSender())
