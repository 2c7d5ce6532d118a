"""One stream entry, one handler: decide, deliver, and say what to do with the entry.

``EntryDelivery.handle`` returns ``ACK`` (the handler returned: acknowledge, in a batch),
``RETRY`` (it raised and has deliveries left: leave it pending, retry after a backoff) or
``DEAD`` (already written to the dead-letter stream and acknowledged, atomically). In order:

1. A deleted body (trimmed, XDEL'd) or an entry that cannot be decoded (missing fields, bad
   JSON, nested too deep, not UTF-8: ANY exception while decoding) is dead-lettered at once
   with the reason; so is an entry whose ``type`` is not the event type of the stream it
   was found on. Nothing read is trusted: no exception of decoding reaches the consumer.
2. The delivery count is checked BEFORE the handler runs: past ``EVENTBUS_MAX_DELIVERIES``
   the entry is dead-lettered without running it (the handler was started that many times
   and never returned: it killed its worker, or hung until claimed).
3. The handler runs through ``bus.deliver(handler_id, envelope)`` (current event and
   correlation id bound), inside ``context()`` when given (the worker passes the Flask app
   context); the handler's own log lines carry ``handler_id`` (bound once per consumer
   thread) and its event's ``event_id`` and ``correlation_id`` (read from the current event
   when a line is written: ``app.core.events.context.log_fields``).
   An unknown handler, or an envelope ``publish()`` would have refused (``bus.admit``: name,
   depth, encodability, size, declared shape and version) is dead-lettered at once; any
   other exception is retried, or dead-lettered on the last delivery with its class and
   redacted message (``app.core.events.redaction``: no payload value, no SQL detail).

Thread safety: one instance per consumer thread.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, NamedTuple

from structlog.contextvars import bind_contextvars, unbind_contextvars

from app.core.events.bus import EventBus
from app.core.events.envelope import Envelope
from app.core.events.exceptions import EventValidationError, UnknownHandlerError
from app.core.events.instrumentation import HOOK, Kind
from app.core.events.observed import call_observed, observe_outcome
from app.core.events.redaction import log_fields, redacted_message
from app.log import get_logger

from ..redis_common import RedisClient, text
from .dead_letters import TRANSPORT_NAME, dead_letter
from .entries import decode_entry
from .settings import StreamsSettings

__all__ = ["Entry", "EntryDelivery", "Outcome"]

ContextFactory = Callable[[], AbstractContextManager[Any]]
_UNKNOWN = "\0unknown"  # not a stream's event type: no name holds a NUL


class Outcome(enum.Enum):
    """What the consumer does with an entry after :meth:`EntryDelivery.handle`."""

    ACK = "ack"
    RETRY = "retry"
    DEAD = "dead"


_ACK = Outcome.ACK  # read once: an Enum member read goes through EnumType.__getattr__ (~60 ns)


class Entry(NamedTuple):
    """One stream entry as read: where from, its id, its raw fields, its delivery count."""

    stream: str
    entry_id: bytes
    fields: Mapping[Any, Any]
    deliveries: int


class EntryDelivery:
    """Handles entries of one handler's group for one consumer."""

    def __init__(
        self,
        bus: EventBus,
        client: RedisClient,
        settings: StreamsSettings,
        handler_id: str,
        consumer: str,
        *,
        context: ContextFactory | None = None,
        after_delivery: Callable[[], None] | None = None,
    ) -> None:
        self.bus = bus
        self.client = client
        self.settings = settings
        self.handler_id = handler_id
        self.consumer = consumer
        self.context = context
        self.after_delivery = after_delivery
        self._in_batch = False
        self._event_types: dict[str, str | None] = {}
        self._deliver = bus.workers.deliver  # what EventBus.deliver calls: one call fewer
        self._max_deliveries = settings.max_deliveries
        self._log: Any = get_logger("eventbus.streams")

    def handle(
        self, stream: str, entry_id: bytes, fields: Mapping[Any, Any], deliveries: int = 1
    ) -> Outcome:
        """Deliver one entry read from ``stream`` (see the module docstring); ``deliveries``
        counts this one. The :class:`Entry` that the dead-letter and retry paths take is
        built only on those paths: the common one costs the decoding, one look-up and two
        comparisons before the handler runs."""
        try:
            envelope = decode_entry(fields) if fields else None
        except Exception as exc:  # whatever the entry holds, decoding never stops the worker
            reason = str(exc)[:500] or repr(exc)[:500]
            return self.dead(
                Entry(stream, entry_id, fields, deliveries), type(exc).__name__, reason
            )
        if (
            envelope is None
            or self._event_types.get(stream) != envelope.type
            or deliveries > self._max_deliveries
        ):
            envelope = self._refuse(Entry(stream, entry_id, fields, deliveries), envelope)
            if envelope is None:
                return Outcome.DEAD
        try:
            if self._in_batch or self.context is None:
                try:
                    if HOOK.notify is None and HOOK.tracing is None:  # _call, inlined
                        self._deliver(self.handler_id, envelope)
                    else:
                        self._call_observed(envelope)
                finally:
                    if self.after_delivery is not None:
                        self.after_delivery()
            else:
                with self.context():
                    self._call(envelope)
        except (UnknownHandlerError, EventValidationError) as exc:
            reason = redacted_message(exc, envelope.payload, full=self.bus.log_full_errors)
            entry = Entry(stream, entry_id, fields, deliveries)
            return self.dead(entry, type(exc).__name__, reason, envelope)
        except Exception as exc:
            return self._failed(Entry(stream, entry_id, fields, deliveries), envelope, exc)
        return _ACK

    def _call(self, envelope: Envelope) -> None:
        """The handler call, under the instrumentation hook when something observes."""
        if HOOK.notify is None and HOOK.tracing is None:
            self._deliver(self.handler_id, envelope)
        else:
            self._call_observed(envelope)

    def _call_observed(self, envelope: Envelope) -> None:
        """The handler call under the instrumentation hook and the tracer."""
        call_observed(
            lambda: self._deliver(self.handler_id, envelope),
            event_type=envelope.type,
            handler_id=self.handler_id,
            transport=TRANSPORT_NAME,
            envelope=envelope,
        )

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Deliver a batch inside one context (``after_delivery`` still runs per entry)."""
        if self.context is None or self.after_delivery is None or self._in_batch:
            yield
            return
        with self.context():
            self._in_batch = True
            try:
                yield
            finally:
                self._in_batch = False

    def bind_handler(self) -> None:
        """Bind ``handler_id`` in this thread's log context (once, when its consumer starts)."""
        bind_contextvars(handler_id=self.handler_id)

    @staticmethod
    def unbind_handler() -> None:
        """Remove ``handler_id`` from this thread's log context (when its consumer stops)."""
        unbind_contextvars("handler_id")

    def _refuse(self, entry: Entry, envelope: Envelope | None) -> Envelope | None:
        """The admission of :meth:`handle` for all but the common case: dead-letter a deleted
        body, an entry on another type's stream, or one past the delivery limit (``None``);
        else the envelope."""
        if envelope is None:
            self.dead(
                entry, "EntryDeleted",
                "the entry's body was deleted (trimmed or XDEL) before it was handled",
            )  # fmt: skip
            return None
        expected = self._event_type(entry.stream)
        if expected is not None and envelope.type != expected:
            self.dead(
                entry, "UnroutableEntry",
                f"an entry of type {envelope.type!r} on the stream of {expected!r}",
            )  # fmt: skip
            return None
        if entry.deliveries > self._max_deliveries:
            started = entry.deliveries - 1
            self.dead(
                entry._replace(deliveries=started), "DeliveryLimitExceeded",
                f"the handler was started {started} times and never returned "
                "(its worker died, or it ran past EVENTBUS_CLAIM_IDLE_MS)", envelope,
            )  # fmt: skip
            return None
        return envelope

    def dead(
        self, entry: Entry, error_class: str, reason: str, envelope: Envelope | None = None
    ) -> Outcome:
        """Write the entry to the dead-letter stream and acknowledge it (one MULTI)."""
        dead_letter(
            self.client,
            self.settings.keys,
            stream=entry.stream,
            group=self.handler_id,
            entry_id=entry.entry_id,
            fields=entry.fields,
            deliveries=entry.deliveries,
            error_class=error_class,
            reason=reason,
            consumer=self.consumer,
        )
        self._log.warning(
            "entry.dead_lettered",
            handler_id=self.handler_id,
            stream=entry.stream,
            entry_id=text(entry.entry_id),
            deliveries=entry.deliveries,
            error_class=error_class,
        )
        if HOOK.notify is not None:
            event_type = envelope.type if envelope else self._event_type(entry.stream)
            observe_outcome(
                Kind.DEAD_LETTERED,
                event_type=event_type or "unknown",
                handler_id=self.handler_id,
                transport=TRANSPORT_NAME,
                envelope=envelope,
                error_class=error_class,
                reason=reason,
            )
        return Outcome.DEAD

    def _failed(self, entry: Entry, envelope: Envelope, exc: Exception) -> Outcome:
        last = entry.deliveries >= self.settings.max_deliveries
        self._log.error(
            "handler.failed",
            handler_id=self.handler_id,
            event_id=envelope.id,
            event_type=envelope.type,
            correlation_id=envelope.correlation_id,
            deliveries=entry.deliveries,
            retry_in_s=None if last else self.settings.retry_delay_s(entry.deliveries),
            **log_fields(exc, envelope.payload, full=self.bus.log_full_errors),
        )
        if last:
            reason = redacted_message(exc, envelope.payload, full=self.bus.log_full_errors)
            return self.dead(entry, type(exc).__name__, reason, envelope)
        observe_outcome(
            Kind.RETRIED,
            event_type=envelope.type,
            handler_id=self.handler_id,
            transport=TRANSPORT_NAME,
            envelope=envelope,
            error_class=type(exc).__name__,
        )
        return Outcome.RETRY

    def _event_type(self, stream: str) -> str | None:
        found = self._event_types.get(stream, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._event_types[stream] = self.settings.keys.event_type_of(stream)
        return found
