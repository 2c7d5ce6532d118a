"""Which request and which event the running code works for: two ``ContextVar``s.

- The **correlation id**: set once per HTTP request (``extension``); in a worker, the
  delivered event's (read from the current dispatch, see :func:`run_delivery`); carried
  into every event published meanwhile.
- The **current dispatch**: set by whoever calls handlers (the in-process transport, a
  Streams or RQ worker through :meth:`EventBus.deliver`) just before the first handler call
  and reset right after the last, so nested publishes and sibling handlers see exactly their
  own event. :func:`current_event` reads it.

A :data:`Dispatch` holds what the in-process path already has (name, payload, the
publisher's frame, the parent dispatch) and the :class:`Envelope` is built from it only when
something asks for it (a handler, a nested publish needing its causation id, an error log): most
in-process dispatches never pay for an id and a timestamp. Once built, the envelope is the
same object for the rest of the dispatch.

Every log line written while a handler runs carries its event's ``event_id`` and
``correlation_id`` (:func:`log_fields`, read when the line is written: nothing is bound per
event).

Thread and task safety: both are ``ContextVar``s, so threads and asyncio tasks each see their
own; a handler's context changes are undone when it returns.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import FrameType
from typing import Any

from app.log import add_context_source

from .envelope import Envelope, new_event_id
from .payloads import declared_version

__all__ = [
    "Dispatch",
    "bind_correlation_id",
    "correlation_id",
    "current_dispatch",
    "current_event",
    "dispatch_of",
    "enter_dispatch",
    "envelope_of",
    "exit_dispatch",
    "log_fields",
    "producer_of_frame",
    "publisher_frame",
    "reset_correlation_id",
    "run_delivery",
    "set_correlation_id",
    "valid_request_id",
]

_correlation: ContextVar[str | None] = ContextVar("eventbus_correlation_id", default=None)
_dispatch: ContextVar[Dispatch | None] = ContextVar("eventbus_dispatch", default=None)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

Dispatch = list[Any]
"""One event being handled, as a 5-item list ``[event_type, payload, caller, parent, envelope]``
indexed by the constants below:

- ``EVENT_TYPE``, ``PAYLOAD``: what was published;
- ``CALLER``: the publisher's frame (``None`` when the envelope exists already), read only
  for its module name when the envelope is built (:func:`producer_of_frame`);
- ``PARENT``: the dispatch that was current when this one was published (causation);
- ``ENVELOPE``: the envelope, or ``None`` until :func:`envelope_of` builds it.

A list rather than a class because ``publish()`` builds one per event and a list literal is
about four times cheaper to build than an instance with an ``__init__`` (measured ~100 ns
against ~450 ns on CPython 3.11 here); it is mutable so that the envelope, once built, is
kept. A dispatch belongs to the thread (or task) that runs its handlers.
"""
EVENT_TYPE, PAYLOAD, CALLER, PARENT, ENVELOPE = range(5)

DispatchToken = Token["Dispatch | None"]
"""What :data:`enter_dispatch` returns and :data:`exit_dispatch` takes."""


def dispatch_of(envelope: Envelope) -> Dispatch:
    """The dispatch of an envelope that already exists (its id is kept)."""
    return [envelope.type, envelope.payload, None, None, envelope]


def envelope_of(dispatch: Dispatch) -> Envelope:
    """The envelope of ``dispatch``, built now if it was not yet, then kept in it."""
    envelope: Envelope | None = dispatch[ENVELOPE]
    if envelope is None:
        producer = producer_of_frame(dispatch[CALLER])
        envelope = new_envelope(dispatch[EVENT_TYPE], dispatch[PAYLOAD], producer, dispatch[PARENT])
        dispatch[ENVELOPE] = envelope
    return envelope


current_dispatch: Callable[[], Dispatch | None] = _dispatch.get
"""The dispatch whose handler is running in this context, or ``None``."""

enter_dispatch: Callable[[Dispatch], DispatchToken] = _dispatch.set
"""Make a dispatch the current one; returns the token for :data:`exit_dispatch`."""

exit_dispatch: Callable[[DispatchToken], None] = _dispatch.reset
"""Restore the dispatch that was current before :data:`enter_dispatch` returned the token."""


def current_event() -> Envelope | None:
    """The envelope of the event whose handler is running in this context, or ``None``.

    In-process, the envelope is built on the first call during a dispatch and is then the
    same object for every later call (siblings, nested publishes, error logs); in a worker it
    is the envelope that was delivered.
    """
    dispatch = _dispatch.get()
    return None if dispatch is None else envelope_of(dispatch)


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
    parent_envelope = envelope_of(parent) if parent is not None else None
    correlation = _correlation.get() or (
        parent_envelope.correlation_id if parent_envelope is not None else event_id
    )
    return Envelope(  # positional: about a tenth cheaper than by keyword
        event_id,
        str(event_type),
        payload,
        correlation,
        parent_envelope.id if parent_envelope is not None else None,
        producer,
        declared_version(event_type),
        None,  # occurred_at: now
        encoded,
    )


publisher_frame: Callable[[int], FrameType] = sys._getframe
"""``publisher_frame(1)``, called in a public publishing function, is the frame of the code
that called that function, the way ``logging`` finds a record's caller (``stacklevel``). The
only frame read of the bus: ``EventBus.publish`` and ``publish_after_commit`` name their
producer with it, and only the frame's module name is ever read (:func:`producer_of_frame`),
never its locals. (It is ``sys._getframe`` itself: a wrapper would add a call per publish.)
"""


def producer_of_frame(frame: FrameType | None) -> str:
    """The producer named by the publisher's frame: ``patients`` for code in
    ``modules.patients.*``, else the full module name (``""`` when unknown).

    Reads only the frame's module name, as ``logging`` does for a record's ``stacklevel``.
    """
    if frame is None:
        return ""
    name = frame.f_globals.get("__name__", "")
    producer = _producers.get(name)
    if producer is None:
        parts = str(name).split(".")
        producer = parts[1] if parts[0] == "modules" and len(parts) > 1 else str(name)
        if len(_producers) < _MAX_PRODUCERS:
            _producers[name] = producer
    return producer


_producers: dict[Any, str] = {}
"""Producer by module name, worked out once per module (a few hundred modules at most)."""
_MAX_PRODUCERS = 4096


def run_delivery(envelope: Envelope, call: Callable[[dict[str, Any]], object]) -> None:
    """Run ``call(envelope.payload)`` with ``envelope`` as the current event, and so its
    correlation id as the current one, then restore both (workers).

    One ``ContextVar`` set and reset when no correlation id is set (a worker's thread): the
    readers of the correlation id (:func:`correlation_id`, :func:`new_envelope`) fall back to
    the current event's. When one is set (a delivery inside a request or a
    :func:`bind_correlation_id` block), the event's correlation id is set over it.
    """
    # dispatch_of(envelope), inlined: with admit() inlined in WorkerDelivery.deliver, ~0.9k
    # instructions of the worker's ~37k per event (2%: the drain's margin over its bar)
    token = _dispatch.set([envelope.type, envelope.payload, None, None, envelope])
    try:
        if _correlation.get() is None:
            call(envelope.payload)
        else:
            correlation = _correlation.set(envelope.correlation_id)
            try:
                call(envelope.payload)
            finally:
                _correlation.reset(correlation)
    finally:
        _dispatch.reset(token)


def correlation_id() -> str | None:
    """The correlation id of the current request or worker message, if any: the one set
    (a request, :func:`bind_correlation_id`), else that of the event being handled (a
    worker's, or an in-process one outside a request: its envelope is built if it was not)."""
    value = _correlation.get()
    if value is None:
        dispatch = _dispatch.get()
        if dispatch is not None:
            return envelope_of(dispatch).correlation_id
    return value


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


def log_fields(fields: MutableMapping[str, Any]) -> None:
    """Add the ``event_id`` and ``correlation_id`` of the event being handled, if any, to a
    log line's ``fields`` (keys already there are kept). In-process, the envelope is built
    if it was not yet, so the id logged is the id the event keeps."""
    dispatch = _dispatch.get()
    if dispatch is not None:
        envelope = envelope_of(dispatch)
        fields.setdefault("event_id", envelope.id)
        fields.setdefault("correlation_id", envelope.correlation_id)


add_context_source(log_fields)
