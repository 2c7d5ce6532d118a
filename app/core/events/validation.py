"""What ``publish()`` checks about a payload, and when: :class:`PayloadValidator`.

An event is checked once, where it enters the bus: ``publish()``, or
``EventBus.prepare()`` for an event queued until a commit. Envelopes that were prepared
earlier (after-commit sends, the outbox relay, replays, worker deliveries) are never checked
again. The checks themselves are the payload module's (JSON safety and size) and the declared
shapes' (``schema_check``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .payload import check_payload

__all__ = ["PayloadCheck", "PayloadValidator"]

PayloadCheck = Callable[[str, dict[str, Any]], None]
"""A declared-shape check: raises an ``EventValidationError`` for a payload that does not fit."""


class PayloadValidator:
    """The payload checks and their settings.

    ``validate`` (``EVENTBUS_VALIDATE_PAYLOADS``) turns both checks on for every event; off,
    a payload headed for a remote transport is still checked for JSON safety and size, since
    it must cross the wire.
    """

    def __init__(self) -> None:
        self.validate = True
        self.max_payload_bytes = 65536
        self.schema_check: PayloadCheck | None = None

    def check(self, event_type: str, data: Any, remote: bool) -> str | None:
        """Raise an ``EventValidationError`` subclass for a bad payload; return its JSON text
        when the check had to encode it (so it is not encoded twice), else ``None``."""
        encoded = check_payload(data, self.max_payload_bytes) if self.validate or remote else None
        if self.schema_check is not None and self.validate:
            self.schema_check(event_type, data)
        return encoded
