"""A sample module that depends on alpha and consumes events, one through a wildcard."""

from typing import Any

from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest

SEEN: list[str] = []


def on_patient_event(payload: dict[str, Any]) -> None:
    SEEN.append("on_patient_event")


def on_everything(payload: dict[str, Any]) -> None:
    SEEN.append("on_everything")


class BetaModule(BaseModule):
    manifest = Manifest("beta", depends=("alpha",))

    def get_event_handlers(self) -> dict[str, Handler]:
        return {"patient.*": on_patient_event, "*": on_everything}
