"""Patient timeline: every event that carries a ``patient_id``, in the order it occurred.

No dependencies: one wildcard subscription (``*``) feeds it; it never reads another module's
tables. Each event is recorded once per event id, however often it is delivered.
"""

from __future__ import annotations

from flask import Blueprint

from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest

from . import handlers
from .views import blueprint

__all__ = ["PatientTimelineModule"]


class PatientTimelineModule(BaseModule):
    """The timeline module: a read API under ``/timeline``, fed by a ``*`` subscription."""

    manifest = Manifest(
        name="patient_timeline",
        version="1.0.0",
        description="Each patient's events in the order they occurred.",
    )

    def get_blueprint(self) -> Blueprint:
        return blueprint

    def get_event_handlers(self) -> dict[str, Handler]:
        return {"*": handlers.on_event}
