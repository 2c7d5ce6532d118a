"""Running one handler call under the instrumentation hook and the tracer, on every path.

:func:`call_observed` is what the in-process transport, the Redis Streams delivery and the RQ
dispatcher wrap each handler call in: with nothing observing and no tracer it calls straight
through (two attribute reads and two ``None`` checks); otherwise it times the call, runs it in
the tracer's consumer span, and reports ``handled`` or ``failed`` with the duration.
:func:`observe_outcome` reports what a worker decided after a failure (``retried``,
``dead_lettered``); :func:`observe_published` reports a hand-over to a transport.
:func:`with_trace_context` and :func:`with_current_trace_context` stamp an envelope with the
W3C trace context the transports (and the outbox's rows) carry to the workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .envelope import Envelope
from .instrumentation import HOOK, Kind, Observation, Tracing
from .redaction import redacted_error
from .stamps import trace_context

__all__ = [
    "call_observed",
    "observe_outcome",
    "observe_published",
    "with_current_trace_context",
    "with_trace_context",
]


def call_observed(
    call: Callable[[], Any],
    *,
    event_type: str,
    handler_id: str,
    transport: str,
    envelope: Envelope | Callable[[], Envelope | None] | None,
) -> None:
    """Run ``call()``; report it (see the module docstring); re-raise what it raises (the
    FAILED observation carries it redacted: ``instrumentation``'s redaction contract).

    ``envelope`` may be a function that builds it, called only when something observes.
    """
    notify = HOOK.notify
    tracing = HOOK.tracing
    if notify is None and tracing is None:
        call()
        return
    event = envelope() if callable(envelope) else envelope
    started = time.perf_counter()
    try:
        if tracing is not None:
            with tracing.handling(event, event_type, handler_id, transport):
                call()
        else:
            call()
    except Exception as exc:
        if notify is not None:
            payload = event.payload if event is not None else None
            notify(
                Observation(
                    Kind.FAILED,
                    event_type,
                    transport,
                    handler_id,
                    time.perf_counter() - started,
                    event,
                    error=redacted_error(exc, payload, full=HOOK.full_errors),
                    error_class=type(exc).__name__,
                )
            )
        raise
    if notify is not None:
        duration = time.perf_counter() - started
        notify(Observation(Kind.HANDLED, event_type, transport, handler_id, duration, event))


def observe_outcome(
    kind: Kind,
    *,
    event_type: str,
    handler_id: str,
    transport: str,
    envelope: Envelope | None,
    error_class: str | None = None,
    reason: str | None = None,
) -> None:
    """Report a worker's decision after a failed delivery (RETRIED or DEAD_LETTERED)."""
    notify = HOOK.notify
    if notify is not None:
        notify(
            Observation(
                kind,
                event_type,
                transport,
                handler_id,
                envelope=envelope,
                error_class=error_class,
                reason=reason,
            )
        )


def observe_published(
    envelope: Envelope, transport: str, handler_count: int, duration_s: float | None = None
) -> None:
    """Report that ``transport`` took ``envelope`` for ``handler_count`` handlers."""
    notify = HOOK.notify
    if notify is not None:
        notify(
            Observation(
                Kind.PUBLISHED,
                envelope.type,
                transport,
                duration_s=duration_s,
                envelope=envelope,
                handler_count=handler_count,
            )
        )


def with_trace_context(envelope: Envelope, tracing: Tracing, span: Any) -> Envelope:
    """``envelope`` stamped with the current span's W3C trace context (the producer span
    ``span`` of its publish, which it also names), for the transports to carry."""
    tracing.describe(span, envelope)
    traceparent, tracestate = tracing.trace_context()
    if traceparent is None:
        return envelope
    return envelope.replace(traceparent=traceparent, tracestate=tracestate)


def with_current_trace_context(envelope: Envelope) -> Envelope:
    """``envelope`` stamped with the W3C trace context of the span current now, when tracing
    is on and there is one (else ``envelope`` itself); only a well-formed ``traceparent`` is
    kept (``stamps.trace_context``). For an envelope that leaves later, from storage (the
    outbox's row), so its consumers continue the trace of the code that queued it. With
    tracing off: one ``None`` check."""
    tracing = HOOK.tracing
    if tracing is None:
        return envelope
    kept = trace_context(*tracing.trace_context())
    if not kept:
        return envelope
    return envelope.replace(**kept)
