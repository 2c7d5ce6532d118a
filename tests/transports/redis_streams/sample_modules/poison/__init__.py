"""Handlers that fail on purpose: one raises, one kills its own process (SIGKILL).

Each counts its calls in ``<prefix>:attempts:<handler id>`` BEFORE failing, and records the
events it handles normally like the recorder does.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest

from .. import client, prefix, record


def always_raises(payload: dict[str, Any]) -> None:
    if payload.get("mode") == "raise":
        client().incr(f"{prefix()}:attempts:poison.always_raises")
        raise RuntimeError("poison: this handler always raises for this event")
    record("poison.always_raises", payload)


def kills_process(payload: dict[str, Any]) -> None:
    if payload.get("mode") == "kill":
        client().incr(f"{prefix()}:attempts:poison.kills_process")
        os.kill(os.getpid(), signal.SIGKILL)
    record("poison.kills_process", payload)


class PoisonModule(BaseModule):
    manifest = Manifest(name="poison")

    def get_event_handlers(self) -> dict[str, Handler]:
        return {"patient.created": always_raises, "patient.updated": kills_process}
