"""Two recording handlers: one on ``patient.created``, one on every ``patient.*`` event."""

from __future__ import annotations

from typing import Any

from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest

from .. import record


def on_created(payload: dict[str, Any]) -> None:
    record("recorder.on_created", payload)


def on_patient(payload: dict[str, Any]) -> None:
    record("recorder.on_patient", payload)


class RecorderModule(BaseModule):
    manifest = Manifest(name="recorder")

    def get_event_handlers(self) -> dict[str, Handler]:
        return {"patient.created": on_created, "patient.*": on_patient}
