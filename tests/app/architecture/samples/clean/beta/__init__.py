"""Depends on alpha (a synchronous read) and consumes its events."""

from typing import Any

from app.core.events import EventType
from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest
from tests.app.architecture.samples.clean.alpha.public import patient_name

SEEN: list[str] = []


def on_patient_created(payload: dict[str, Any]) -> None:
    SEEN.append(patient_name(payload["patient_id"]))


def on_invoice(payload: dict[str, Any]) -> None:
    SEEN.append("invoice")


class BetaModule(BaseModule):
    manifest = Manifest("beta", depends=("alpha",))

    def get_event_handlers(self) -> dict[str, Handler]:
        return {EventType.PATIENT_CREATED: on_patient_created, "invoice.*": on_invoice}
