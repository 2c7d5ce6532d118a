"""The original subscribing example (a module with ``get_event_handlers``), as first written."""

from typing import Any

from app.core.modules import BaseModule, Manifest

RECEIVED: list[tuple[str, dict[str, Any]]] = []


# In module's __init__.py
class NotificationsModule(BaseModule):
    manifest = Manifest(name="notifications")

    def get_event_handlers(self) -> dict:  # type: ignore[type-arg]
        return {
            "patient.created": self._on_patient_created,
            "appointment.scheduled": self._on_appointment_scheduled,
        }

    def _on_patient_created(self, data: dict) -> None:  # type: ignore[type-arg]
        # Queue welcome notification
        RECEIVED.append(("patient.created", data))

    def _on_appointment_scheduled(self, data: dict) -> None:  # type: ignore[type-arg]
        RECEIVED.append(("appointment.scheduled", data))
