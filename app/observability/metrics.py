"""Prometheus metrics of the bus (the ``metrics`` extra: ``prometheus_client``).

:class:`BusMetrics` is an observer of the instrumentation hook: every observation, on every
path (web, Streams worker, RQ worker, relay), increments one counter, and a handler's run
time goes into one histogram. Metric names and labels:

=========================================  ==========================================
``eventbus_events_published_total``        event_type, transport
``eventbus_events_handled_total``          event_type, handler_id, transport
``eventbus_events_failed_total``           event_type, handler_id, transport
``eventbus_events_retried_total``          event_type, handler_id, transport
``eventbus_events_dead_lettered_total``    event_type, handler_id, transport
``eventbus_handler_duration_seconds``      event_type, handler_id, transport (histogram)
=========================================  ==========================================

Label values are bounded: an event type not in the bus's known names, a handler id not
registered in this process, or a transport not known is counted as ``other``; ids never
become labels. The gauges (pending, lag, dead letters, outbox backlog) are read at scrape
time by :mod:`app.observability.stats_collector`.

Only this package imports ``prometheus_client``, and only when metrics are turned on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from app.core.events.instrumentation import HOOK, Kind, Observation

__all__ = ["DURATION_BUCKETS", "OTHER", "BusMetrics", "install", "installed"]

OTHER = "other"
DURATION_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
_TRANSPORTS = frozenset({"inprocess", "redis-streams", "rq", "outbox", "none"})
_HANDLER_LABELS = ("event_type", "handler_id", "transport")
_CHILDREN_CACHED = 4096
"""Label combinations whose metric children are kept (``labels()`` costs ~1 µs a call); a
process that meets more (forged names) still counts them, as ``other``, uncached."""


class BusMetrics:
    """The bus's counters and histogram, registered in ``registry`` (``None``: in no
    registry, as in gunicorn's multiprocess mode, where a scrape reads the shared files).

    ``known_event_type`` and ``known_handler`` bound the label values (see the module
    docstring). Thread safety: as ``prometheus_client`` (safe).
    """

    def __init__(
        self,
        registry: CollectorRegistry | None,
        *,
        known_event_type: Callable[[str], bool],
        known_handler: Callable[[str], bool],
    ) -> None:
        self.registry = registry
        self._known_event_type = known_event_type
        self._known_handler = known_handler
        self.published = Counter(
            "eventbus_events_published",
            "Events handed to a transport (one per transport that took the event).",
            ("event_type", "transport"),
            registry=registry,
        )
        self.handled = self._counter("handled", "Handler calls that returned.")
        self.failed = self._counter("failed", "Handler calls that raised.")
        self.retried = self._counter("retried", "Failed deliveries left for another attempt.")
        self.dead_lettered = self._counter(
            "dead_lettered", "Deliveries given up on and kept as dead letters."
        )
        self.duration = Histogram(
            "eventbus_handler_duration_seconds",
            "Run time of handler calls (returned or raised).",
            _HANDLER_LABELS,
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self._children: dict[tuple[Kind, str, str | None, str], tuple[Any, Any]] = {}
        self._counters = {
            Kind.HANDLED: self.handled,
            Kind.FAILED: self.failed,
            Kind.RETRIED: self.retried,
            Kind.DEAD_LETTERED: self.dead_lettered,
        }

    def _counter(self, name: str, doc: str) -> Counter:
        return Counter(f"eventbus_events_{name}", doc, _HANDLER_LABELS, registry=self.registry)

    def observe(self, observation: Observation) -> None:
        """Count ``observation`` (the instrumentation hook's observer)."""
        key = (observation.kind, observation.event_type, observation.handler_id,
               observation.transport)  # fmt: skip
        children = self._children.get(key)
        if children is None:
            children = self._children_for(observation)
            if len(self._children) < _CHILDREN_CACHED:
                self._children[key] = children
        counter, duration = children
        counter.inc()
        if duration is not None and observation.duration_s is not None:
            duration.observe(observation.duration_s)

    def _children_for(self, observation: Observation) -> tuple[Any, Any]:
        """The counter (and histogram) children of ``observation``'s bounded labels."""
        event_type = self._event_label(observation.event_type)
        transport = observation.transport if observation.transport in _TRANSPORTS else OTHER
        if observation.kind is Kind.PUBLISHED:
            return self.published.labels(event_type, transport), None
        handler = observation.handler_id or ""
        handler_id = handler if handler and self._known_handler(handler) else OTHER
        counter = self._counters[observation.kind].labels(event_type, handler_id, transport)
        timed = observation.kind in (Kind.HANDLED, Kind.FAILED)
        duration = self.duration.labels(event_type, handler_id, transport) if timed else None
        return counter, duration

    def _event_label(self, event_type: str) -> str:
        return event_type if self._known_event_type(event_type) else OTHER


class _Installed:
    current: BusMetrics | None = None


def install(metrics: BusMetrics) -> None:
    """Make ``metrics`` the process's observer, replacing the one installed before (the
    process has one bus; the app built last owns its metrics)."""
    previous = _Installed.current
    if previous is not None:
        HOOK.remove(previous.observe)
    _Installed.current = metrics
    HOOK.add(metrics.observe)


def installed() -> BusMetrics | None:
    """The installed metrics, if any."""
    return _Installed.current
