"""The bus's instrumentation signals, in Flask's style (blinker), built on the one hook.

The signals are sent by an observer of ``instrumentation.HOOK`` that is attached only while
some receiver is connected to one of them, so they cost nothing otherwise; and since every
path reports to the hook, they fire in the web process, the Redis Streams worker, the RQ
worker and the outbox relay alike. Every signal's sender is the process's ``event_bus`` and
every one carries ``event_type`` and ``transport``. Receivers run synchronously on the
thread that made the observation and must not raise (an exception is logged and dropped).

- ``event_published``: ``payload``, ``handler_count``, ``event_id``, once per transport
  that took the event (``inprocess`` for in-process handlers, ``none`` for no handler).
- ``handler_succeeded``: ``handler_id``, ``event_id``, ``duration_s``.
- ``handler_failed``: ``handler_id``, ``event_id``, ``error``, ``duration_s``; ``error`` is
  the handler's exception redacted (a ``RedactedError``: ``error_class`` names the original
  class; see ``instrumentation``'s redaction contract), never the exception itself.
- ``handler_retried``: ``handler_id``, ``event_id``, ``error_class`` (a worker will try again).
- ``event_dead_lettered``: ``handler_id``, ``event_id`` (``None`` if malformed),
  ``error_class``, ``reason``.
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace, Signal

from .instrumentation import HOOK, Kind, Observation

__all__ = [
    "ALL_SIGNALS",
    "event_dead_lettered",
    "event_published",
    "handler_failed",
    "handler_retried",
    "handler_succeeded",
]

_signals = Namespace()

event_published = _signals.signal(
    "eventbus.event-published",
    doc="An event was handed to a transport: event_type, transport, payload, handler_count, "
    "event_id.",
)
handler_succeeded = _signals.signal(
    "eventbus.handler-succeeded",
    doc="A handler returned: event_type, transport, handler_id, event_id, duration_s.",
)
handler_failed = _signals.signal(
    "eventbus.handler-failed",
    doc="A handler raised: event_type, transport, handler_id, event_id, error, duration_s.",
)
handler_retried = _signals.signal(
    "eventbus.handler-retried",
    doc="A worker left a failed delivery for another attempt: event_type, transport, "
    "handler_id, event_id, error_class.",
)
event_dead_lettered = _signals.signal(
    "eventbus.event-dead-lettered",
    doc="A worker kept a delivery as a dead letter: event_type, transport, handler_id, "
    "event_id, error_class, reason.",
)

ALL_SIGNALS = (
    event_published,
    handler_succeeded,
    handler_failed,
    handler_retried,
    event_dead_lettered,
)


def _sender() -> Any:
    from . import event_bus

    return event_bus


def send_signals(observation: Observation) -> None:
    """The hook's observer: send the signal of ``observation`` if a receiver listens."""
    kind = observation.kind
    envelope = observation.envelope
    event_id = envelope.id if envelope is not None else None
    common: dict[str, Any] = {
        "event_type": observation.event_type,
        "transport": observation.transport,
        "event_id": event_id,
    }
    if kind is Kind.PUBLISHED:
        if event_published.receivers:
            payload = observation.payload
            if payload is None and envelope is not None:
                payload = envelope.payload  # decoded only for a receiver of this signal
            event_published.send(
                _sender(),
                payload=payload,
                handler_count=observation.handler_count,
                **common,
            )
        return
    common["handler_id"] = observation.handler_id
    if kind is Kind.HANDLED:
        if handler_succeeded.receivers:
            handler_succeeded.send(_sender(), duration_s=observation.duration_s, **common)
    elif kind is Kind.FAILED:
        if handler_failed.receivers:
            handler_failed.send(
                _sender(), error=observation.error, duration_s=observation.duration_s, **common
            )
    elif kind is Kind.RETRIED:
        if handler_retried.receivers:
            handler_retried.send(_sender(), error_class=observation.error_class, **common)
    elif event_dead_lettered.receivers:
        event_dead_lettered.send(
            _sender(), error_class=observation.error_class, reason=observation.reason, **common
        )


def _receivers_changed(signal: Signal, **_: Any) -> None:
    if any(s.receivers for s in ALL_SIGNALS):
        HOOK.add(send_signals)
    else:
        HOOK.remove(send_signals)


for _signal in ALL_SIGNALS:
    _signal.receiver_connected.connect(_receivers_changed)
    _signal.receiver_disconnected.connect(_receivers_changed)
