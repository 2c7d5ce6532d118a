"""Three publish calls the bus would reject (strict mode) and the checker reports."""

from app.core.events import EventType, event_bus


def admit(patient_id: str) -> None:
    event_bus.publish("patient.admitted", {"patient_id": patient_id})


def discharge(patient_id: str) -> None:
    event_bus.publish(
        EventType.PATIENT_DISCHARGED,  # type: ignore[attr-defined]
        {"patient_id": patient_id},
    )


def everyone(patient_id: str) -> None:
    event_bus.publish("patient.*", {"patient_id": patient_id})
