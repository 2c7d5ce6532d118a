"""Subscriptions built at run time: only the loaded module shows the names."""

from typing import Any

from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest

NAMES = ("lab.result_ready", "patient.created")


def on_any(payload: dict[str, Any]) -> None:
    """Never called: the loader refuses the module."""


class LabModule(BaseModule):
    manifest = Manifest("lab")

    def get_event_handlers(self) -> dict[str, Handler]:
        return {name: on_any for name in NAMES}
