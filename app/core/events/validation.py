"""What ``publish()`` checks about a payload, and when: :class:`PayloadValidator`.

An event is checked where it enters the bus: ``publish()``, or ``EventBus.prepare()`` for an
event queued until a commit. Envelopes prepared earlier in this process (after-commit sends,
the outbox relay, replays) are not checked again; an envelope a worker READ is, by
:meth:`PayloadValidator.admit` (``EventBus.deliver``), so a worker runs a handler only for what
``publish()`` would have accepted. The checks themselves are the payload module's (JSON
safety, nesting depth and size, in one walk) and the declared shapes' (``schema_check``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .envelope import Envelope
from .exceptions import EventValidationError
from .payload import DEFAULT_MAX_JSON_DEPTH, check_payload
from .payloads import declared_version

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
        self.max_json_depth = DEFAULT_MAX_JSON_DEPTH
        self.schema_check: PayloadCheck | None = None

    def check(self, event_type: str, data: Any, remote: bool) -> str | None:
        """Raise an ``EventValidationError`` subclass for a bad payload; return its JSON text
        when the check had to encode it (so it is not encoded twice), else ``None``."""
        encoded = None
        if self.validate or remote:
            # one walk: encodability, nesting depth and size (names cycles, bad types)
            encoded = check_payload(data, self.max_payload_bytes, self.max_json_depth)
        if self.schema_check is not None and self.validate:
            self.schema_check(event_type, data)
        return encoded

    def admit(self, envelope: Envelope) -> None:
        """Raise an ``EventValidationError`` unless ``publish()`` would have sent ``envelope``:
        the payload's depth, encodability and size (``MalformedEnvelopeError`` if a deferred
        payload is not a JSON object), and with validation on, the declared shape and version.
        """
        self.check(envelope.type, envelope.payload, True)
        if self.validate and self.schema_check is not None:
            expected = declared_version(envelope.type)
            if envelope.version != expected:
                raise EventValidationError(
                    f"{envelope.type} version {envelope.version} is not the declared "
                    f"version {expected}: this process cannot read it"
                )
