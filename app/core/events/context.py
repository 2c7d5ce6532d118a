"""Correlation and causation: which request and which event caused the current work.

The correlation id lives in a ``ContextVar`` set once per HTTP request (or per message in a
worker). The event being handled is found without any per-publish bookkeeping: in-process
dispatch runs inside :meth:`EventBus.publish`, so :func:`current_event` walks the calling
frames to the innermost dispatching ``publish`` and reads its locals. That costs nothing on the
publish hot path (a ``ContextVar`` set/reset pair measured ~300 ns here, more than the whole
dispatch of one handler) and a few microseconds only when a handler actually asks. Workers,
which call handlers outside ``publish``, set the envelope in a ``ContextVar`` instead.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import CodeType, FrameType
from typing import Any

from .envelope import Envelope, new_event_id
from .payloads import declared_version

__all__ = [
    "MINTED",
    "bind_correlation_id",
    "correlation_id",
    "current_event",
    "delivering",
    "valid_request_id",
]

_correlation: ContextVar[str | None] = ContextVar("eventbus_correlation_id", default=None)
_delivering: ContextVar[Envelope | None] = ContextVar("eventbus_envelope", default=None)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

# Code objects of the functions that run in-process handlers (their locals ``event_type``,
# ``data`` and ``envelope`` hold the event), with how many frames up the publisher's code is.
_DISPATCH_CODES: dict[CodeType, int] = {}
# Envelopes minted on demand for in-process dispatches that had none, by frame id. An entry
# lives only while its frame runs: the dispatcher removes it before returning.
_minted: dict[int, Envelope] = {}
MINTED = _minted  # read by the dispatcher: a truthiness check costs ~20 ns
_minted_lock = threading.RLock()


def register_dispatch_code(code: CodeType, publisher_depth: int = 1) -> None:
    """Mark ``code`` as a dispatcher whose locals are ``event_type``, ``data``, ``envelope``.

    ``publisher_depth`` is how many frames above a running ``code`` the publishing code is.
    """
    _DISPATCH_CODES[code] = publisher_depth


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


def enter_delivery(envelope: Envelope) -> tuple[Token[Envelope | None], Token[str | None]]:
    """Make ``envelope`` the current event and correlation (the fast form of ``delivering``)."""
    return _delivering.set(envelope), _correlation.set(envelope.correlation_id)


def exit_delivery(tokens: tuple[Token[Envelope | None], Token[str | None]]) -> None:
    """Undo :func:`enter_delivery`."""
    _correlation.reset(tokens[1])
    _delivering.reset(tokens[0])


@contextmanager
def delivering(envelope: Envelope) -> Iterator[Envelope]:
    """Run a worker-side handler call with ``envelope`` as the current event and correlation."""
    tokens = enter_delivery(envelope)
    try:
        yield envelope
    finally:
        exit_delivery(tokens)


def current_event() -> Envelope | None:
    """The envelope of the event whose handler is running on this thread, or ``None``.

    Inside an in-process handler the envelope is built on first request and is then the same
    object for every later call during that dispatch (siblings, nested publishes, error logs).
    """
    return _enclosing_event(sys._getframe(1))


def _enclosing_event(frame: FrameType | None) -> Envelope | None:
    while frame is not None:
        if frame.f_code in _DISPATCH_CODES:
            return envelope_of_frame(frame)
        frame = frame.f_back
    return _delivering.get()


def envelope_of_frame(frame: FrameType) -> Envelope:
    """The envelope of the dispatch running in ``frame``, minting (and keeping) one if needed."""
    local: dict[str, Any] = frame.f_locals
    envelope: Envelope | None = local.get("envelope")
    if envelope is not None:
        return envelope
    key = id(frame)
    with _minted_lock:
        envelope = _minted.get(key)
        if envelope is None:
            publisher: FrameType | None = frame
            for _ in range(_DISPATCH_CODES.get(frame.f_code, 1)):
                publisher = publisher.f_back if publisher is not None else None
            envelope = new_envelope(local["event_type"], local["data"], None, publisher)
            _minted[key] = envelope
    return envelope


def forget_minted(frame: FrameType) -> None:
    """Drop the envelope minted for ``frame`` (called by the dispatcher as it returns)."""
    with _minted_lock:
        _minted.pop(id(frame), None)


def new_envelope(
    event_type: str, data: dict[str, Any], encoded: str | None, caller: FrameType | None
) -> Envelope:
    """Build the envelope for an event that the code running in ``caller`` publishes now.

    The correlation id comes from the request or worker context (else the parent event's, else
    the new event's own id), the causation id from the event whose handler is publishing, the
    producer from the publisher's module.
    """
    event_id = new_event_id()
    parent = _enclosing_event(caller)
    correlation = _correlation.get() or (parent.correlation_id if parent else event_id)
    return Envelope(
        id=event_id,
        type=str(event_type),
        payload=data,
        correlation_id=correlation,
        causation_id=parent.id if parent is not None else None,
        producer=_producer(caller),
        version=declared_version(event_type),
        encoded_payload=encoded,
    )


# Code objects of functions that publish on behalf of another producer (e.g. events queued
# until a commit), with the name of their local holding that producer.
_RELAY_CODES: dict[CodeType, str] = {}


def register_relay_code(code: CodeType, producer_local: str) -> None:
    """Mark ``code`` as publishing for the producer held in its local ``producer_local``."""
    _RELAY_CODES[code] = producer_local


def producer_of(frame: FrameType | None) -> str:
    """The producer of an event published by the code running in ``frame`` (see below)."""
    return _producer(frame)


def _producer(frame: FrameType | None) -> str:
    """The publishing module: ``patients`` for code in ``modules.patients.*``, else the module."""
    while frame is not None:
        relay = _RELAY_CODES.get(frame.f_code)
        if relay is not None:
            return str(frame.f_locals.get(relay, ""))
        name = str(frame.f_globals.get("__name__", ""))
        if not name.startswith(("app.core.events", "contextlib")):
            parts = name.split(".")
            return parts[1] if parts[0] == "modules" and len(parts) > 1 else name
        frame = frame.f_back
    return ""
