"""Sample module ``rqsample``: a recording handler, one that always fails, one that stalls."""

from __future__ import annotations

import os
import time
from typing import Any

from app.core.events import EventType
from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest

from ..recording import attempt, mark, record

STALL_SECONDS = 30.0


def on_patient_created(payload: dict[str, Any]) -> None:
    """Record the event."""
    record("on_patient_created", payload)


def always_fails(payload: dict[str, Any]) -> None:
    """Count the attempt, then raise."""
    attempt("always_fails")
    raise RuntimeError("always_fails refuses every event")


def stall_first(payload: dict[str, Any]) -> None:
    """First attempt: announce the pid and stall (to be killed); later attempts record."""
    if attempt("stall_first") == 1:
        mark("stalled", str(os.getpid()))
        time.sleep(STALL_SECONDS)
    record("stall_first", payload)


class RQSampleModule(BaseModule):
    """Handlers for RQ worker tests."""

    manifest = Manifest(name="rqsample")

    def get_event_handlers(self) -> dict[str, Handler]:
        return {
            EventType.PATIENT_CREATED: on_patient_created,
            EventType.INVOICE_PAID: always_fails,
            EventType.APPOINTMENT_CANCELLED: stall_first,
        }
