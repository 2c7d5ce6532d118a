"""Sample module ``rqbilling``: one recording handler, routed to its own queue in tests."""

from __future__ import annotations

from typing import Any

from app.core.events import EventType
from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest

from ..recording import record


def on_patient_created(payload: dict[str, Any]) -> None:
    """Record the event."""
    record("billing_on_patient_created", payload)


class RQBillingModule(BaseModule):
    """A second module, so that per-module queues can be shown."""

    manifest = Manifest(name="rqbilling")

    def get_event_handlers(self) -> dict[str, Handler]:
        return {EventType.PATIENT_CREATED: on_patient_created}
