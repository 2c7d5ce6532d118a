"""What ``publish()`` checks about a payload, and when: :class:`PayloadValidator`.

An event is checked where it enters the bus: ``publish()``, or ``EventBus.prepare()`` for an
event queued until a commit. Envelopes prepared earlier in this process (after-commit sends,
the outbox relay, replays) are not checked again; an envelope a worker READ is, by
:meth:`PayloadValidator.admit` (``EventBus.deliver``), so a worker runs a handler only for what
``publish()`` would have accepted. The checks themselves are the payload module's (JSON
safety, nesting depth and size, in one walk) and the declared shapes' (``schema_check``).

With the declared shapes as the check (``check_declared_payload``), an event whose shape
compiles (:mod:`~app.core.events.shapes`) is first walked once for both checks; only a payload
that walk cannot vouch for (most often a bad one) goes through both full checks, which decide
and word the error. Either way the verdict is the full checks'.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .envelope import Envelope
from .exceptions import EventValidationError
from .payload import DEFAULT_MAX_JSON_DEPTH, check_payload
from .payloads import DECLARED_PAYLOADS, check_declared_payload, declared_version
from .shapes import Unsure, Walk

__all__ = ["PayloadCheck", "PayloadValidator"]

PayloadCheck = Callable[[str, dict[str, Any]], None]
"""A declared-shape check: raises an ``EventValidationError`` for a payload that does not fit."""


class PayloadValidator:
    """The payload checks and their settings.

    ``validate`` (``EVENTBUS_VALIDATE_PAYLOADS``) turns both checks on for every event; off,
    a payload headed for a remote transport is still checked for JSON safety and size, since
    it must cross the wire. Changing a setting takes effect at the next check.
    """

    def __init__(self) -> None:
        self._validate = True
        self.max_payload_bytes = 65536
        self._max_json_depth = DEFAULT_MAX_JSON_DEPTH
        self._schema_check: PayloadCheck | None = None
        self._walks: dict[str, Walk] = {}
        self._admissions: dict[str, tuple[Walk, int]] = {}

    def check(self, event_type: str, data: Any, remote: bool) -> str | None:
        """Raise an ``EventValidationError`` subclass for a bad payload; return its JSON text
        when the check had to encode it (so it is not encoded twice), else ``None``."""
        walk = self._walks.get(event_type)
        if walk is not None:
            try:
                if walk(data) <= self.max_payload_bytes:
                    return None
            except Unsure:
                pass
        encoded = None
        if self._validate or remote:
            # one walk: encodability, nesting depth and size (names cycles, bad types)
            encoded = check_payload(data, self.max_payload_bytes, self._max_json_depth)
        if self._schema_check is not None and self._validate:
            self._schema_check(event_type, data)
        return encoded

    def admit(self, envelope: Envelope) -> None:
        """Raise an ``EventValidationError`` unless ``publish()`` would have sent ``envelope``:
        the payload's depth, encodability and size (``MalformedEnvelopeError`` if a deferred
        payload is not a JSON object), and with validation on, the declared shape and version.

        Every event a worker reads goes through here: an event with a compiled walk is
        admitted by one look-up, the walk and one comparison; anything else, or anything
        they cannot vouch for, goes through the full checks, which decide and word the error.
        """
        admission = self._admissions.get(envelope.type)
        if admission is not None:
            walk, version = admission
            try:
                if walk(envelope.payload) <= self.max_payload_bytes and envelope.version == version:
                    return
            except Unsure:
                pass
        self.check(envelope.type, envelope.payload, True)
        if self._validate and self._schema_check is not None:
            expected = declared_version(envelope.type)
            if envelope.version != expected:
                raise EventValidationError(
                    f"{envelope.type} version {envelope.version} is not the declared "
                    f"version {expected}: this process cannot read it"
                )

    @property
    def validate(self) -> bool:
        """Whether every payload is checked (``EVENTBUS_VALIDATE_PAYLOADS``)."""
        return self._validate

    @validate.setter
    def validate(self, value: bool) -> None:
        self._validate = value
        self._compile()

    @property
    def max_json_depth(self) -> int:
        """The deepest payload nesting accepted (``EVENTBUS_MAX_JSON_DEPTH``)."""
        return self._max_json_depth

    @max_json_depth.setter
    def max_json_depth(self, value: int) -> None:
        self._max_json_depth = value
        self._compile()

    @property
    def schema_check(self) -> PayloadCheck | None:
        """The declared-shape check, or ``None`` for none."""
        return self._schema_check

    @schema_check.setter
    def schema_check(self, value: PayloadCheck | None) -> None:
        self._schema_check = value
        self._compile()

    def _compile(self) -> None:
        """The one-pass walks by event name: with validation on and the declared shapes as
        the check, those of the shapes that compiled and nest within the depth limit.
        ``DECLARED_PAYLOADS`` is read here, when a setting changes (it is fixed at import)."""
        declared = self._validate and self._schema_check is check_declared_payload
        self._walks = {
            name: spec.walk.walk
            for name, spec in DECLARED_PAYLOADS.items()
            if declared and spec.walk is not None and spec.walk.depth <= self._max_json_depth
        }
        # what admit() needs of an event with a walk, in one look-up: walk, declared version
        self._admissions = {
            name: (walk, DECLARED_PAYLOADS[name].version) for name, walk in self._walks.items()
        }
