"""The ONE function every bus job runs: ``dispatch(handler_id, envelope)`` of this module.

The dispatcher finds the handler by id in the registry of an app built by the same factory as
the web process (``app.create_app()``, configured from the ``FLASK_*`` environment), once per
worker process; a worker that already holds an app (``flask events rq-worker``) or a bus (the
tests) installs it with :func:`install`. Nothing named by job data is ever imported.

Failure semantics: a malformed envelope, an unknown handler id, or (strict mode) an event
name not in ``EventType`` fail the job at once, with that reason and no retry, since another
attempt cannot succeed; anything a handler raises propagates to RQ, which retries it with
the job's ``Retry`` and then moves it to the failed registry.

Thread safety: the runtime is built once under a lock; ``dispatch`` may run on any thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from app.core.events.bus import EventBus
from app.core.events.envelope import Envelope
from app.core.events.exceptions import (
    EventValidationError,
    MalformedEnvelopeError,
    UnknownHandlerError,
)
from app.core.events.instrumentation import HOOK, Kind
from app.core.events.observed import call_observed, observe_outcome
from app.core.events.redaction import RedactedError, describe_error, redacted_message
from app.log import get_logger

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "DISPATCHER_NAME",
    "LEGACY_DISPATCHER_NAMES",
    "dispatch",
    "install",
    "installed",
    "runtime",
    "uninstall",
]

DISPATCHER_NAME = f"{__name__}.dispatch"
"""What RQ stores as every bus job's function; the bus's job class refuses any other."""

TRANSPORT_NAME = "rq"

LEGACY_DISPATCHER_NAMES = frozenset({"transports.rq_dispatch.dispatch"})
"""Names earlier releases stored for the same dispatcher (jobs still queued across an upgrade)."""
PERMANENT_ERRORS = (MalformedEnvelopeError, UnknownHandlerError, EventValidationError)


@dataclass(frozen=True)
class Runtime:
    """The bus a worker process delivers on, and the app whose context handlers run in."""

    bus: EventBus
    app: Flask | None
    pid: int


class _Slot:
    """The process's runtime, replaced under ``lock``."""

    def __init__(self) -> None:
        self.current: Runtime | None = None
        self.lock = threading.Lock()


_slot = _Slot()


def install(bus: EventBus, app: Flask | None = None) -> None:
    """Deliver on ``bus`` (inside ``app``'s context, if given) instead of building an app."""
    with _slot.lock:
        _slot.current = Runtime(bus, app, os.getpid())


def uninstall() -> None:
    """Forget the installed runtime; the next job builds the app again."""
    with _slot.lock:
        _slot.current = None


@contextmanager
def installed(bus: EventBus, app: Flask | None = None) -> Iterator[Runtime]:
    """:func:`install` for the duration of a block, restoring the previous runtime after."""
    previous = _slot.current
    current = Runtime(bus, app, os.getpid())
    with _slot.lock:
        _slot.current = current
    try:
        yield current
    finally:
        with _slot.lock:
            _slot.current = previous


def runtime() -> Runtime:
    """The installed runtime, else one built now with ``create_app()`` (once per process)."""
    current = _slot.current
    if current is not None:
        return current
    with _slot.lock:
        if _slot.current is None:
            from app import create_app
            from app.processes import record_process

            app = create_app()
            record_process(app, "rq-worker")  # RQ's own `rq worker`: its routing, its beat
            _slot.current = Runtime(app.extensions["eventbus"].bus, app, os.getpid())
        return _slot.current


def dispatch(handler_id: Any, envelope: Any) -> None:
    """Run handler ``handler_id`` for ``envelope`` (the job's JSON arguments).

    Raises :class:`MalformedEnvelopeError` / :class:`UnknownHandlerError` / an
    ``EventValidationError`` (``bus.admit``: what ``publish()`` would have refused), its
    message redacted: the job is failed without retry. What the handler raised comes back as
    a :class:`~app.core.events.redaction.RedactedError` (RQ records its text as the job's
    failure: no payload value, no SQL detail unless ``EVENTBUS_LOG_FULL_ERRORS``).
    """
    try:
        if not isinstance(handler_id, str) or not handler_id:
            raise MalformedEnvelopeError(
                f"the handler id must be a non-empty string, got {handler_id!r:.80}"
            )
        event = Envelope.from_dict(envelope)
    except Exception as exc:  # whatever the job holds, it is refused with a reason
        _no_retry()
        refused = (
            exc
            if isinstance(exc, MalformedEnvelopeError)
            else MalformedEnvelopeError(f"unreadable envelope: {type(exc).__name__}")
        )
        _observe_failure(str(handler_id)[:200], None, refused, str(refused))
        raise refused from None
    current = runtime()
    with (
        structlog.contextvars.bound_contextvars(
            correlation_id=event.correlation_id,
            event_id=event.id,
            event_type=event.type,
            handler_id=handler_id,
        ),
        _app_context(current),
    ):
        try:
            if HOOK.notify is None and HOOK.tracing is None:
                current.bus.deliver(handler_id, event)
            else:
                call_observed(
                    lambda: current.bus.deliver(handler_id, event),
                    event_type=event.type,
                    handler_id=handler_id,
                    transport=TRANSPORT_NAME,
                    envelope=event,
                )
        except PERMANENT_ERRORS as exc:
            _no_retry()
            reason = redacted_message(exc, event.payload, full=current.bus.log_full_errors)
            _logger().error("rq.job_refused", reason=reason, error=type(exc).__name__)
            _observe_failure(handler_id, event, exc, reason)
            raise type(exc)(reason) from None  # the same class, its message redacted
        except Exception as exc:
            _logger().warning("rq.handler_failed", error=type(exc).__name__)
            reason = describe_error(exc, event.payload, full=current.bus.log_full_errors)
            _observe_failure(handler_id, event, exc, reason.removeprefix(f"{type(exc).__name__}: "))
            raise RedactedError(reason, type(exc).__name__) from None


def _observe_failure(handler_id: str, event: Envelope | None, exc: Exception, reason: str) -> None:
    """Report what RQ will do with the failed job: retry it, or keep it as failed (with the
    redacted ``reason``, as a Streams dead letter reports it)."""
    if HOOK.notify is None:
        return
    from rq import get_current_job

    job: Any = get_current_job()
    retry = job is not None and bool(getattr(job, "should_retry", False))
    observe_outcome(
        Kind.RETRIED if retry else Kind.DEAD_LETTERED,
        event_type=event.type if event is not None else "unknown",
        handler_id=handler_id,
        transport=TRANSPORT_NAME,
        envelope=event,
        error_class=type(exc).__name__,
        reason=None if retry else reason,
    )


def _logger() -> Any:
    """Resolved at use: the app configures logging after this module is imported."""
    return get_logger("eventbus.rq")


def _app_context(current: Runtime) -> AbstractContextManager[object]:
    if current.app is None:
        return nullcontext()
    if current.pid != os.getpid():
        _forget_inherited_connections(current.app)
    return current.app.app_context()


def _forget_inherited_connections(app: Flask) -> None:
    """In a forked work horse: drop pooled DB connections inherited from the parent."""
    from app.db import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def _no_retry() -> None:
    """Tell the bus's job class not to retry the job being performed (it cannot succeed).

    Under RQ's plain ``Job`` class (a worker started without the bus's ``--job-class``) the
    flag is ignored and RQ retries the job as usual; it fails again the same way.
    """
    from rq import get_current_job

    job: Any = get_current_job()
    if job is not None:
        job.permanent_failure = True
