"""Publish at the transaction boundary: events queued on a session go out only after COMMIT.

A service calls :func:`publish_after_commit` where it would call ``event_bus.publish``::

    patient = Patient(...)
    db.session.add(patient)
    publish_after_commit(EventType.PATIENT_CREATED, {...})
    db.session.commit()          # the event is published here, after the COMMIT succeeded

Contract:

- **Validation happens at the call, once**, exactly as ``publish()`` would do it (strict
  name, JSON encodability and size, declared shape), so bad input raises in the service,
  before anything is committed. The event's envelope is built then (id, time, producer,
  correlation and causation of the code that queued it) and is what goes out after the
  commit and through the outbox relay, without being checked again.
- Events belong to the innermost transaction open on the session (a transaction is begun if
  none is). A SAVEPOINT that is released hands its events to the enclosing transaction; one
  that rolls back drops them. When the outermost transaction commits, its events are
  published with ``EventBus.publish_envelope`` in the order they were queued; when it rolls back (or
  the session is closed without committing) they are dropped: **a transaction that rolls
  back publishes nothing**.
- The events' producer (envelope ``producer``) is the module that queued them (the caller of
  ``publish_after_commit``, or ``producer=``), not the code that happened to commit.
- Publishing happens after the connection was released, so the session is usable again and
  in-process handlers see the committed rows. Handlers that write must use their own
  transaction (:func:`app.core.persistence.idempotent_handler` gives them one).
- Every queued event is published even if an earlier one fails. Then, if any failed, the
  error is raised from ``commit()`` (the data is committed by then): a ``HandlerError``
  combining every handler error (only with ``EVENTBUS_RAISE_HANDLER_ERRORS``, i.e. in
  tests), or the first other error (e.g. a ``TransportError``: Redis down), after logging
  each failure with the event type. That gap (commit succeeded, publish failed) is closed
  by the outbox: with ``EVENTBUS_OUTBOX`` on, an event with remote handlers is written to the
  outbox table in the transaction itself, only its in-process handlers run after the commit,
  and the relay sends the row (see :mod:`app.core.outbox`). With tracing on, the row carries
  the W3C trace context of the span current at the call (the request's, or a handler's), so
  the workers' consumer spans continue that trace.

The payload is copied (shallowly) when queued: do not mutate nested values afterwards.
Thread safety: a session belongs to one thread, and so do its queued events.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from app.core import outbox  # the module, not its names: outbox imports persistence.clock
from app.core.events import EventBus, HandlerError, event_bus
from app.core.events.context import producer_of_frame, publisher_frame
from app.core.events.envelope import Envelope
from app.core.events.observed import with_current_trace_context
from app.db import session_or_default
from app.log import get_logger

__all__ = ["PendingEvent", "pending_events", "publish_after_commit"]

_PENDING = "eventbus.pending"  # session.info key: {transaction: [PendingEvent, ...]}
_COMMITTED = "eventbus.committed"  # session.info key: transactions whose COMMIT succeeded
_install_lock = threading.Lock()
_installed = False


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event waiting for its transaction to commit: its checked ``envelope``.

    ``relay`` is set when the outbox took the event's remote part (its row is in the same
    transaction): after the commit only the in-process handlers run, and ``relay`` is woken
    to send the row.
    """

    envelope: Envelope
    bus: EventBus
    relay: outbox.OutboxRelay | None = None

    @property
    def event_type(self) -> str:
        """The event name."""
        return self.envelope.type

    @property
    def payload(self) -> dict[str, Any]:
        """The queued payload."""
        return self.envelope.payload


def publish_after_commit(
    event_type: str,
    payload: Mapping[str, Any],
    *,
    session: Session | scoped_session[Any] | None = None,
    bus: EventBus = event_bus,
    producer: str | None = None,
) -> None:
    """Validate ``payload`` now; publish it on ``bus`` once ``session``'s transaction commits.

    ``session`` defaults to ``db.session`` (the current app context's session); ``producer``
    to the module of the calling code. Raises the bus's ``EventValidationError`` subclasses
    for a bad name or payload; nothing is queued then.
    """
    data = dict(payload)
    if producer is None:
        producer = producer_of_frame(publisher_frame(1))
    envelope = bus.prepare(event_type, data, producer=producer)
    target = session_or_default(session)
    _install_hooks()
    transaction = target.get_nested_transaction() or target.get_transaction()
    if transaction is None:
        transaction = target.begin()
    queues: dict[SessionTransaction, list[PendingEvent]] = target.info.setdefault(_PENDING, {})
    relay = outbox.current_relay()
    if relay is not None and bus.has_remote_subscribers(event_type):
        envelope = with_current_trace_context(envelope)  # the row leaves later: keep the trace
        outbox.OutboxStore.add(target, envelope)
        pending = PendingEvent(envelope, bus, relay)
    else:
        pending = PendingEvent(envelope, bus)
    queues.setdefault(transaction, []).append(pending)


def pending_events(session: Session | scoped_session[Any] | None = None) -> list[PendingEvent]:
    """Every event queued on ``session`` and not yet published or dropped (for tests, tools)."""
    queues = session_or_default(session).info.get(_PENDING, {})
    return [pending for queue in queues.values() for pending in queue]


def _install_hooks() -> None:
    """Listen on every ``Session`` once; the listeners do nothing for sessions with no events."""
    global _installed  # noqa: PLW0603 (a process-wide, install-once flag)
    if _installed:
        return
    with _install_lock:
        if not _installed:
            event.listen(Session, "after_commit", _after_commit)
            event.listen(Session, "after_transaction_end", _after_transaction_end)
            _installed = True


def _after_commit(session: Session) -> None:
    if not session.info.get(_PENDING):
        return
    committed = session.get_nested_transaction() or session.get_transaction()
    if committed is not None:
        session.info.setdefault(_COMMITTED, set()).add(committed)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    queues: dict[SessionTransaction, list[PendingEvent]] | None = session.info.get(_PENDING)
    if not queues:
        return
    committed: set[SessionTransaction] = session.info.get(_COMMITTED, set())
    was_committed = transaction in committed
    committed.discard(transaction)
    events = queues.pop(transaction, None)
    if not events or not was_committed:
        return  # nothing queued here, or rolled back: drop
    parent = transaction.parent
    if parent is not None:
        queues.setdefault(parent, []).extend(events)  # a released SAVEPOINT
        return
    _publish_all(events)


def _publish_all(events: list[PendingEvent]) -> None:
    """Publish each event; then raise the collected failures (see the module docstring)."""
    handler_errors: list[HandlerError] = []
    other: list[Exception] = []
    for pending in events:
        try:
            pending.bus.publish_envelope(pending.envelope, remote=pending.relay is None)
        except HandlerError as exc:
            handler_errors.append(exc)
        except Exception as exc:
            get_logger("eventbus.after_commit").error(
                "event.publish_failed_after_commit",
                event_type=pending.event_type,
                error=type(exc).__name__,
            )
            other.append(exc)
    for relay in {id(p.relay): p.relay for p in events if p.relay is not None}.values():
        relay.notify()
    if other:
        raise other[0]
    if len(handler_errors) == 1:
        raise handler_errors[0]
    if handler_errors:
        raise HandlerError(
            f"handlers failed for {len(handler_errors)} events published after commit",
            [error for group in handler_errors for error in group.exceptions],
            [handler_id for group in handler_errors for handler_id in group.handler_ids],
        )
