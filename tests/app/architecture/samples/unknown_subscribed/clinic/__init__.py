from typing import Any

from app.core.events import EventType
from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest


def on_admitted(payload: dict[str, Any]) -> None:
    """Never called: the event does not exist."""


def on_created(payload: dict[str, Any]) -> None:
    """A valid subscription next to the bad ones."""


def on_lab(payload: dict[str, Any]) -> None:
    """Never called: no event matches ``lab.*``."""


class ClinicModule(BaseModule):
    manifest = Manifest("clinic")

    def get_event_handlers(self) -> dict[str, Handler]:
        return {
            "patient.admitted": on_admitted,
            EventType.PATIENT_CREATED: on_created,
            "lab.*": on_lab,
        }
