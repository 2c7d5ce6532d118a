"""Which request and which event the running code works for: two ``ContextVar``s.

- The **correlation id**: set once per HTTP request (``extension``) or per delivered message
  in a worker; carried into every event published meanwhile.
- The **current dispatch**: set by whoever calls handlers (the in-process transport, a
  Streams or RQ worker through :meth:`EventBus.deliver`) just before the first handler call
  and reset right after the last, so nested publishes and sibling handlers see exactly their
  own event. :func:`current_event` reads it.

A :class:`Dispatch` holds what the in-process path already has (name, payload, the
publisher's frame, the parent dispatch) and builds the :class:`Envelope` only when something
asks for it (a handler, a nested publish needing its causation id, an error log): most
in-process dispatches never pay for an id and a timestamp. Once built, the envelope is the
same object for the rest of the dispatch.

Thread and task safety: both are ``ContextVar``s, so threads and asyncio tasks each see their
own; a handler's context changes are undone when it returns.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import FrameType
from typing import Any

from .envelope import Envelope, new_event_id
from .payloads import declared_version

__all__ = [
    "Dispatch",
    "bind_correlation_id",
    "correlation_id",
    "current_dispatch",
    "current_event",
    "delivering",
    "enter_delivery",
    "exit_delivery",
    "producer_of_frame",
    "publisher_frame",
    "reset_correlation_id",
    "set_correlation_id",
    "valid_request_id",
]

_correlation: ContextVar[str | None] = ContextVar("eventbus_correlation_id", default=None)
_dispatch: ContextVar[Dispatch | None] = ContextVar("eventbus_dispatch", default=None)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

DispatchToken = Token["Dispatch | None"]
"""What :meth:`Dispatch.enter` returns and :meth:`Dispatch.exit` takes."""


class Dispatch:
    """One event being handled: what :func:`current_event` returns the envelope of.

    Built either from an envelope that exists (remote publish, outbox, worker delivery) or
    from the publish call itself (``event_type``, ``payload``, the publisher's ``caller``
    frame, the ``parent`` dispatch that was current then); in that case :attr:`envelope` is
    built on first access. Not thread-safe by itself: a dispatch belongs to the thread (or
    task) that runs its handlers.
    """

    __slots__ = ("_envelope", "caller", "event_type", "parent", "payload")

    def __init__(
        self,
        event_type: str,
        payload: dict[str, Any],
        caller: FrameType | None = None,
        parent: Dispatch | None = None,
        envelope: Envelope | None = None,
    ) -> None:
        self.event_type = event_type
        self.payload = payload
        self.caller = caller
        self.parent = parent
        self._envelope = envelope

    @classmethod
    def of(cls, envelope: Envelope) -> Dispatch:
        """The dispatch of an envelope that already exists (its id is kept)."""
        return cls(envelope.type, envelope.payload, envelope=envelope)

    @property
    def envelope(self) -> Envelope:
        """The event's envelope, built now if it was not yet (then kept)."""
        envelope = self._envelope
        if envelope is None:
            producer = producer_of_frame(self.caller)
            envelope = new_envelope(self.event_type, self.payload, producer, self.parent)
            self._envelope = envelope
        return envelope

    def enter(self) -> DispatchToken:
        """Make this the current dispatch until :meth:`exit` with the returned token."""
        return _dispatch.set(self)

    @staticmethod
    def exit(token: DispatchToken) -> None:
        """Restore the dispatch that was current before :meth:`enter`."""
        _dispatch.reset(token)


def current_dispatch() -> Dispatch | None:
    """The dispatch whose handler is running in this context, or ``None``."""
    return _dispatch.get()


def current_event() -> Envelope | None:
    """The envelope of the event whose handler is running in this context, or ``None``.

    In-process, the envelope is built on the first call during a dispatch and is then the
    same object for every later call (siblings, nested publishes, error logs); in a worker it
    is the envelope that was delivered.
    """
    dispatch = _dispatch.get()
    return None if dispatch is None else dispatch.envelope


def new_envelope(
    event_type: str,
    payload: dict[str, Any],
    producer: str,
    parent: Dispatch | None,
    encoded: str | None = None,
) -> Envelope:
    """A new envelope for an event published now by ``producer`` while ``parent`` ran.

    The correlation id comes from the request or worker context, else the parent event's,
    else the new event's own id; the causation id is the parent event's id.
    """
    event_id = new_event_id()
    parent_envelope = parent.envelope if parent is not None else None
    correlation = _correlation.get() or (
        parent_envelope.correlation_id if parent_envelope is not None else event_id
    )
    return Envelope(
        id=event_id,
        type=str(event_type),
        payload=payload,
        correlation_id=correlation,
        causation_id=parent_envelope.id if parent_envelope is not None else None,
        producer=producer,
        version=declared_version(event_type),
        encoded_payload=encoded,
    )


def publisher_frame(stacklevel: int) -> FrameType:
    """The frame of the code that called a public publishing function, ``stacklevel`` calls
    up from that function (``1``: its direct caller), the way ``logging`` finds a record's
    caller. The only frame read of the bus: ``EventBus.publish`` and
    ``publish_after_commit`` name their producer with it, and only the frame's module name is
    ever read (:func:`producer_of_frame`), never its locals.
    """
    return sys._getframe(stacklevel + 1)


def producer_of_frame(frame: FrameType | None) -> str:
    """The producer named by the publisher's frame: ``patients`` for code in
    ``modules.patients.*``, else the full module name (``""`` when unknown).

    Reads only the frame's module name, as ``logging`` does for a record's ``stacklevel``.
    """
    if frame is None:
        return ""
    name = str(frame.f_globals.get("__name__", ""))
    parts = name.split(".")
    return parts[1] if parts[0] == "modules" and len(parts) > 1 else name


def enter_delivery(envelope: Envelope) -> tuple[DispatchToken, Token[str | None]]:
    """Make ``envelope`` the current event and its correlation id the current one (workers)."""
    return _dispatch.set(Dispatch.of(envelope)), _correlation.set(envelope.correlation_id)


def exit_delivery(tokens: tuple[DispatchToken, Token[str | None]]) -> None:
    """Undo :func:`enter_delivery`."""
    _correlation.reset(tokens[1])
    _dispatch.reset(tokens[0])


@contextmanager
def delivering(envelope: Envelope) -> Iterator[Envelope]:
    """Run a block with ``envelope`` as the current event and correlation (see above)."""
    tokens = enter_delivery(envelope)
    try:
        yield envelope
    finally:
        exit_delivery(tokens)


def correlation_id() -> str | None:
    """The correlation id of the current request or worker message, if any."""
    return _correlation.get()


def valid_request_id(value: str | None) -> str | None:
    """``value`` if it is a safe ``X-Request-ID`` (1–128 of ``[A-Za-z0-9._:-]``), else None."""
    if value and _REQUEST_ID.fullmatch(value):
        return value
    return None


def set_correlation_id(value: str) -> Token[str | None]:
    """Set the correlation id until :func:`reset_correlation_id` with the returned token."""
    return _correlation.set(value)


def reset_correlation_id(token: Token[str | None]) -> None:
    """Undo :func:`set_correlation_id`."""
    _correlation.reset(token)


@contextmanager
def bind_correlation_id(value: str) -> Iterator[str]:
    """Make ``value`` the correlation id of everything published inside the block."""
    token = _correlation.set(value)
    try:
        yield value
    finally:
        _correlation.reset(token)
