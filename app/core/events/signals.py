"""The bus's instrumentation signals, in Flask's style (blinker).

Connect to them for metrics or tests; the bus sends them only while some receiver is
connected, so they cost nothing otherwise. Receivers run synchronously on the publishing
thread and must not raise.
"""

from __future__ import annotations

from blinker import Namespace

__all__ = ["event_published", "handler_failed", "handler_succeeded"]

_signals = Namespace()

event_published = _signals.signal(
    "eventbus.event-published",
    doc="Sent by the bus after validation: kwargs event_type, payload, handler_count.",
)
handler_succeeded = _signals.signal(
    "eventbus.handler-succeeded",
    doc="Sent after a handler returned: kwargs event_type, handler_id, duration_s.",
)
handler_failed = _signals.signal(
    "eventbus.handler-failed",
    doc="Sent after a handler raised: kwargs event_type, handler_id, event_id, error.",
)

ALL_SIGNALS = (event_published, handler_succeeded, handler_failed)
