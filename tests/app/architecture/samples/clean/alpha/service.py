"""Every way of naming the event that the checker resolves."""

from app.core.events import EventType, event_bus
from app.core.events import EventType as Events
from app.core.persistence import publish_after_commit
from app.core.persistence import publish_after_commit as queue_event

CREATED = EventType.PATIENT_CREATED


def create(patient_id: str) -> None:
    event_bus.publish(CREATED, {"patient_id": patient_id, "clinic_id": "c1"})


def update(patient_id: str, archived: bool) -> None:
    publish_after_commit(
        EventType.PATIENT_ARCHIVED if archived else "patient.updated",
        {"patient_id": patient_id, "clinic_id": "c1"},
    )


def pay(invoice_id: str) -> None:
    queue_event(event_type=Events.INVOICE_PAID.value, payload={"invoice_id": invoice_id})
