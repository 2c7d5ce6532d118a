"""OpenTelemetry tracing of the bus (the ``tracing`` extra: ``opentelemetry-api``).

With ``EVENTBUS_TRACING`` on, :func:`install_tracing` puts a :class:`BusTracing` on the
instrumentation hook (``HOOK.tracing``); the bus and the workers then:

- run ``publish()`` in a **producer span** ``send <event type>`` (kind ``PRODUCER``), a
  child of whatever span is current (the HTTP request's, or a handler's for a nested
  publish), and stamp the envelope with that span's W3C trace context (``traceparent``,
  ``tracestate``), which both Redis transports carry as optional envelope fields;
- run each handler in a **consumer span** ``process <event type>`` (kind ``CONSUMER``)
  whose parent is the producer span: in a worker the parent comes from the envelope's
  ``traceparent`` (and the span also links to it), in-process it is simply the current one;
- for an event written to the transactional outbox, ``publish_after_commit`` stamps the
  envelope with the trace context of the span current when it is queued
  (``observed.with_current_trace_context``), the row keeps it and the relay sends it on: the
  worker's consumer span is a child of (and links to) that span, in the same trace.

Attributes follow OpenTelemetry's messaging semantic conventions: ``messaging.system``
(``flask-eventbus``), ``messaging.operation.type`` (``send`` / ``process``),
``messaging.operation.name``, ``messaging.destination.name`` (the event type),
``messaging.message.id`` (the event id), ``messaging.message.conversation_id`` (the
correlation id) and ``messaging.consumer.group.name`` (the handler id), plus
``eventbus.transport``. A handler that raises marks its span as an error with the exception
recorded redacted (``redaction.redacted_error``): its class, the message the logs record
(payload strings replaced, database errors reduced to class, SQLSTATE and constraint) and
its frames; ``EVENTBUS_LOG_FULL_ERRORS`` keeps the message whole.

Spans go to the tracer provider the application configured (``opentelemetry.trace``'s
global one unless one is given); while none is configured, no span is started at all (one
check per publish and per handler call). With the setting off nothing here is imported and
the bus does one ``None`` check.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from app.core.events.envelope import Envelope
from app.core.events.instrumentation import HOOK
from app.core.events.redaction import redacted_error

__all__ = ["SYSTEM", "BusTracing", "install_tracing", "uninstall_tracing"]

SYSTEM = "flask-eventbus"
_PROPAGATOR = TraceContextTextMapPropagator()
_NO_SPAN: AbstractContextManager[Any] = nullcontext()
"""Reentrant, so one instance serves every skipped span."""


class BusTracing:
    """Starts the bus's spans on ``tracer_provider`` (default: the global one)."""

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self._own_provider = tracer_provider is not None
        self.tracer: trace.Tracer = trace.get_tracer(
            "flask-eventbus", tracer_provider=tracer_provider
        )
        """The bus's tracer. From the global provider it is OpenTelemetry's proxy, which
        follows a provider the application sets later."""

    def active(self) -> bool:
        """Whether spans go anywhere: a provider was given, or the application has set the
        global one (until then OpenTelemetry's API would hand out no-op spans: skipped)."""
        return self._own_provider or not isinstance(
            trace.get_tracer_provider(), trace.ProxyTracerProvider
        )

    def publishing(self, event_type: str) -> AbstractContextManager[Any]:
        """The producer span of one ``publish()``, current while the block runs."""
        if not self.active():
            return _NO_SPAN
        return self._publishing(event_type)

    @contextmanager
    def _publishing(self, event_type: str) -> Iterator[Any]:
        with self.tracer.start_as_current_span(
            f"send {event_type}",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": SYSTEM,
                "messaging.operation.type": "send",
                "messaging.operation.name": "send",
                "messaging.destination.name": str(event_type),
            },
        ) as span:
            yield span

    @staticmethod
    def trace_context() -> tuple[str | None, str | None]:
        """``(traceparent, tracestate)`` of the current span, ``(None, None)`` if none."""
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        return carrier.get("traceparent"), carrier.get("tracestate") or None

    @staticmethod
    def describe(span: Any, envelope: Envelope) -> None:
        """Add the envelope's id and correlation id to the producer span."""
        if span is not None and span.is_recording():
            span.set_attribute("messaging.message.id", envelope.id)
            span.set_attribute("messaging.message.conversation_id", envelope.correlation_id)

    def handling(
        self, envelope: Envelope | None, event_type: str, handler_id: str, transport: str
    ) -> AbstractContextManager[Any]:
        """The consumer span of one handler call, current while the block runs.

        A remote delivery's parent is the producer span named by the envelope's
        ``traceparent`` (linked too); an in-process call's is the current span. The block's
        exception is recorded on the span and re-raised.
        """
        if not self.active():
            return _NO_SPAN
        return self._handling(envelope, event_type, handler_id, transport)

    @contextmanager
    def _handling(
        self, envelope: Envelope | None, event_type: str, handler_id: str, transport: str
    ) -> Iterator[Any]:
        parent = None
        links: list[Link] = []
        if envelope is not None and envelope.traceparent:
            carrier = {"traceparent": envelope.traceparent}
            if envelope.tracestate:
                carrier["tracestate"] = envelope.tracestate
            parent = _PROPAGATOR.extract(carrier)
            producer = trace.get_current_span(parent).get_span_context()
            if producer.is_valid:
                links.append(Link(producer))
        attributes: dict[str, str] = {
            "messaging.system": SYSTEM,
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.destination.name": str(event_type),
            "messaging.consumer.group.name": handler_id,
            "eventbus.transport": transport,
        }
        if envelope is not None:
            attributes["messaging.message.id"] = envelope.id
            attributes["messaging.message.conversation_id"] = envelope.correlation_id
        with self.tracer.start_as_current_span(
            f"process {event_type}",
            context=parent,
            kind=SpanKind.CONSUMER,
            links=links,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield span
            except Exception as exc:
                _record_failure(span, exc, envelope)
                raise


def _record_failure(span: Any, exc: Exception, envelope: Envelope | None) -> None:
    """Mark ``span`` failed with ``exc`` redacted: never its message, locals or chained
    errors (``instrumentation``'s redaction contract)."""
    payload = envelope.payload if envelope is not None else None
    error = redacted_error(exc, payload, full=HOOK.full_errors)
    span.record_exception(
        error,
        attributes={
            "exception.type": error.error_class,
            "exception.message": error.message,
            "exception.stacktrace": (
                f"Traceback (most recent call last):\n{error.stack}{error}"
                if error.stack
                else str(error)
            ),
        },
    )
    span.set_status(Status(StatusCode.ERROR, error.error_class))


def install_tracing(tracer_provider: trace.TracerProvider | None = None) -> BusTracing:
    """Trace the bus from now on (the process has one bus; the last call wins)."""
    tracing = BusTracing(tracer_provider)
    HOOK.set_tracing(tracing)
    return tracing


def uninstall_tracing() -> None:
    """Stop tracing the bus."""
    HOOK.set_tracing(None)
