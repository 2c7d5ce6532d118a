"""Publish calls whose event name is computed: reported, never silently passed."""

from typing import Any

from app.core.events import EventBus, EventType, event_bus
from app.core.persistence import publish_after_commit


def record(action: str) -> None:
    event_bus.publish(f"patient.{action}", {"action": action})


def forward(name: str, payload: dict[str, Any]) -> None:
    publish_after_commit(name, payload)


def resolved(bus: EventBus) -> None:
    bus.publish(EventType.PATIENT_ARCHIVED, {"patient_id": "p1", "clinic_id": "c1"})
