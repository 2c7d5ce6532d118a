"""The bus's one instrumentation hook: what happened to an event, on every path.

Every place that publishes or runs a handler reports an :class:`Observation` here: the web
process (``publish()`` and its in-process handlers), the Redis Streams worker, the RQ worker
and the outbox relay. The blinker signals (``signals.py``), the Prometheus metrics, the
OpenTelemetry tracing and the dashboard's live tail are all observers of this one hook, so
they see the same events with the same fields whatever the transport.

Cost contract: ``HOOK.notify`` is ``None`` while nothing observes, so a call site costs one
attribute read and a ``None`` check::

    from app.core.events.instrumentation import HOOK
    notify = HOOK.notify
    if notify is not None:
        notify(Observation(...))

Redaction contract: an observer never sees a handler's exception itself. A FAILED
observation's ``error`` is a :class:`~app.core.events.redaction.RedactedError`: ``str()`` is
the text the logs and dead letters record (payload strings replaced, database errors reduced
to class, SQLSTATE and constraint), ``error_class`` the handler's exception class name,
``stack`` its frames as text (no message, no traceback object, so no frame locals);
``EVENTBUS_LOG_FULL_ERRORS`` (``Hook.full_errors``) keeps the text whole. The tracer is
handed the raw exception inside its ``handling`` block (it must re-raise it) and MUST record
only ``redaction.redacted_error(exc, payload, full=HOOK.full_errors)`` on its span;
``app.observability.tracing.BusTracing`` does.

Observers run synchronously on the thread that made the observation, in the order they were
added; they MUST be quick and MUST NOT raise: an exception from an observer is logged (once
per observer and exception class) and swallowed, so instrumentation never changes delivery.
Thread safety: :func:`add_observer` and :func:`remove_observer` take a lock and publish a new
tuple of observers; ``HOOK.notify`` may be read on any thread at any time.
"""

from __future__ import annotations

import enum
import threading
import weakref
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol

from .envelope import Envelope

__all__ = [
    "HOOK",
    "Hook",
    "Kind",
    "Observation",
    "Observer",
    "Tracing",
    "add_observer",
    "changed",
    "observers",
    "remove_observer",
]


class Kind(enum.StrEnum):
    """What happened."""

    PUBLISHED = "published"
    """An event was handed to a transport (one observation per transport that took it)."""
    HANDLED = "handled"
    """A handler returned."""
    FAILED = "failed"
    """A handler raised (a RETRIED or DEAD_LETTERED observation may follow on a worker)."""
    RETRIED = "retried"
    """A worker left a failed delivery for another attempt."""
    DEAD_LETTERED = "dead_lettered"
    """A worker gave up on a delivery and kept it as a dead letter."""


class Observation(NamedTuple):
    """One thing that happened to one event (immutable; a tuple, cheap to build: a frozen
    dataclass of these fields costs ~5 µs, this ~0.5 µs).

    ``transport`` is where it happened (``inprocess``, ``redis-streams``, ``rq``, ``outbox``
    for an event stored for the relay, ``none`` for an event nobody subscribes to).
    ``handler_id`` is ``None`` for PUBLISHED. ``duration_s`` is the handler's run time
    (HANDLED, FAILED) or the hand-over's (PUBLISHED). ``envelope`` is ``None`` when the
    worker could not rebuild one (a malformed entry dead-lettered). ``payload`` is the
    published dict on PUBLISHED (for the ``event_published`` signal); observers that log or
    display MUST NOT show it. ``error`` (FAILED only) is the handler's exception redacted, a
    ``RedactedError`` (see the module docstring), never the exception itself.
    """

    kind: Kind
    event_type: str
    transport: str
    handler_id: str | None = None
    duration_s: float | None = None
    envelope: Envelope | None = None
    error: BaseException | None = None
    error_class: str | None = None
    payload: Mapping[str, Any] | None = None
    handler_count: int | None = None
    reason: str | None = None


Observer = Callable[[Observation], None]


class Tracing(Protocol):
    """What the bus asks of a tracer (``app.observability.tracing.BusTracing``): spans
    around a publish and around each handler call, and the trace context to carry."""

    def publishing(self, event_type: str) -> AbstractContextManager[Any]:
        """The producer span of one publish, current while the block runs."""
        ...

    def trace_context(self) -> tuple[str | None, str | None]:
        """``(traceparent, tracestate)`` of the current span."""
        ...

    def describe(self, span: Any, envelope: Envelope) -> None:
        """Name the published envelope on the producer span."""
        ...

    def handling(
        self, envelope: Envelope | None, event_type: str, handler_id: str, transport: str
    ) -> AbstractContextManager[Any]:
        """The consumer span of one handler call; re-raises what the block raises, and
        records it only redacted (see the module docstring)."""
        ...


class Hook:
    """The observers and the one callable that runs them (:attr:`notify`)."""

    def __init__(self) -> None:
        self.notify: Observer | None = None
        """Call with an observation; ``None`` while nothing observes (the only check)."""
        self.tracing: Tracing | None = None
        """Spans around publishes and handler calls; ``None`` unless tracing is on."""
        self.full_errors = False
        """Whether observers and spans get handler errors unredacted
        (``EVENTBUS_LOG_FULL_ERRORS`` of the app built last: the process has one bus)."""
        self._lock = threading.Lock()
        self._observers: tuple[Observer, ...] = ()
        self._listeners: list[weakref.WeakMethod[Callable[[], None]]] = []

    def observers(self) -> tuple[Observer, ...]:
        """The observers, in the order they run."""
        return self._observers

    def add(self, observer: Observer) -> None:
        """Run ``observer`` for every observation from now on (adding it twice is a no-op)."""
        with self._lock:
            if observer not in self._observers:
                self._observers = (*self._observers, observer)
                self._rebuild()

    def remove(self, observer: Observer) -> None:
        """Stop running ``observer``; removing one that is not there is a no-op."""
        with self._lock:
            if observer in self._observers:
                self._observers = tuple(o for o in self._observers if o != observer)
                self._rebuild()

    def set_tracing(self, tracing: Tracing | None) -> None:
        """Trace with ``tracing`` from now on (``None``: stop tracing)."""
        with self._lock:
            self.tracing = tracing
            self._rebuild()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call the bound method ``listener()`` whenever observers are added or removed
        (the bus refreshes its dispatch plans: whether a publish builds envelopes depends
        on it). Held weakly: the listener's object may be collected."""
        with self._lock:
            self._listeners = [ref for ref in self._listeners if ref() is not None]
            self._listeners.append(weakref.WeakMethod(listener))

    def _rebuild(self) -> None:
        chain = self._observers
        if not chain:
            self.notify = None
        elif len(chain) == 1:
            self.notify = _guarded(chain[0])
        else:
            self.notify = _fan_out(chain)
        for ref in list(self._listeners):
            listener = ref()
            if listener is not None:
                listener()


HOOK = Hook()
"""The process's hook (the process has one bus)."""
add_observer = HOOK.add
remove_observer = HOOK.remove
observers = HOOK.observers
changed = HOOK.on_change


def _guarded(observer: Observer) -> Observer:
    def call(observation: Observation) -> None:
        try:
            observer(observation)
        except Exception as exc:
            _complain(observer, exc)

    return call


def _fan_out(chain: tuple[Observer, ...]) -> Observer:
    def call(observation: Observation) -> None:
        for observer in chain:
            try:
                observer(observation)
            except Exception as exc:
                _complain(observer, exc)

    return call


_complained: set[tuple[int, type[BaseException]]] = set()


def _complain(observer: Observer, exc: Exception) -> None:
    key = (id(observer), type(exc))
    if key in _complained:
        return
    _complained.add(key)
    from app.log import get_logger

    get_logger("eventbus.instrumentation").error(
        "observer.failed",
        observer=getattr(observer, "__qualname__", repr(observer)),
        error=type(exc).__name__,
        exc_info=exc,
    )
