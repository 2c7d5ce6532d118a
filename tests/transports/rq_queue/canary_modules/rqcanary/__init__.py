"""Sample module ``rqcanary``: a handler that fails with the payload's email in its message."""

from __future__ import annotations

from typing import Any

from app.core.events import EventType
from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest


def refuses(payload: dict[str, Any]) -> None:
    """Raise with the email in the message."""
    raise ValueError(f"bad {payload['email']}")


class RQCanaryModule(BaseModule):
    """``raise ValueError(f"bad {email}")`` for every ``patient.created``."""

    manifest = Manifest(name="rqcanary")

    def get_event_handlers(self) -> dict[str, Handler]:
        return {EventType.PATIENT_CREATED: refuses}
