"""Sample module ``rqkill``: a handler slow enough to be killed mid-job, then recorded."""

from __future__ import annotations

import time
from typing import Any

from app.core.events import EventType
from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest

from ...sample_modules.recording import mark, record

WORK_SECONDS = 0.4


def slow_record(payload: dict[str, Any]) -> None:
    """Say which event this process is on, work a little, then record it."""
    import os

    mark(f"running:{os.getpid()}", str(payload["n"]))
    time.sleep(WORK_SECONDS)
    record("slow_record", payload)


class RQKillModule(BaseModule):
    """The handler of the kill test."""

    manifest = Manifest(name="rqkill")

    def get_event_handlers(self) -> dict[str, Handler]:
        return {EventType.PATIENT_CREATED: slow_record}
