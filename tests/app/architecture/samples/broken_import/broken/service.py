"""Read statically although the module cannot be imported."""

from app.core.events import event_bus
from tests.app.architecture.samples.broken_import.other.public import greeting


def admit(patient_id: str) -> None:
    event_bus.publish("patient.admitted", {"patient_id": patient_id, "note": greeting()})
