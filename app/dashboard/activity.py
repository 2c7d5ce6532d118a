"""What the dashboard remembers of this process's events: a tail and per-minute counts.

:class:`Activity` is an observer of the instrumentation hook. It keeps the last
``tail_size`` published events (type, id, correlation id, producer, transport, time; never
payload values) and, per handler, how many calls returned and raised in each of the last
``minutes`` minutes. It sees what THIS process publishes and handles: handlers running in
other worker processes are counted there (their metrics), and their backlog comes from the
broker (``app.observability.figures``).

Thread safety: a lock around each update and each read; an update is a few dictionary
operations, so observing costs about a microsecond per event.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from app.core.events.instrumentation import Kind, Observation

__all__ = ["Activity", "MinuteCounts", "TailEntry"]

_MERGE_WINDOW = 16
"""How many recent entries a hand-over to another transport is matched against."""


@dataclass(frozen=True)
class TailEntry:
    """One published event as the tail shows it; ``transport`` lists every transport that
    took it (``"inprocess, redis-streams"``)."""

    at: float
    event_type: str
    event_id: str
    correlation_id: str
    producer: str
    transport: str


@dataclass(frozen=True)
class MinuteCounts:
    """A handler's calls per minute, oldest first; the last item is the current minute."""

    handler_id: str
    handled: tuple[int, ...]
    failed: tuple[int, ...]


class Activity:
    """The tail and the per-minute counts (see the module docstring)."""

    def __init__(
        self,
        tail_size: int = 100,
        minutes: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._lock = threading.Lock()
        self._tail: deque[TailEntry] = deque(maxlen=tail_size)
        self._minutes = minutes
        self._clock = clock
        # handler id -> {minute number: [handled, failed]}
        self._counts: dict[str, dict[int, list[int]]] = {}

    def observe(self, observation: Observation) -> None:
        """Remember ``observation`` (the instrumentation hook's observer)."""
        now = self._clock()
        if observation.kind is Kind.PUBLISHED:
            envelope = observation.envelope
            if envelope is None:
                return
            entry = TailEntry(
                now,
                envelope.type,
                envelope.id,
                envelope.correlation_id,
                envelope.producer,
                observation.transport,
            )
            with self._lock:
                self._append(entry)
            return
        if observation.kind not in (Kind.HANDLED, Kind.FAILED) or not observation.handler_id:
            return
        column = 0 if observation.kind is Kind.HANDLED else 1
        minute = int(now // 60)
        with self._lock:
            per_minute = self._counts.setdefault(observation.handler_id, {})
            per_minute.setdefault(minute, [0, 0])[column] += 1
            if len(per_minute) > self._minutes:
                for old in [m for m in per_minute if m <= minute - self._minutes]:
                    del per_minute[old]

    def _append(self, entry: TailEntry) -> None:
        """Add ``entry``, or merge its transport into the same event's recent entry."""
        recent = self._tail
        for index in range(len(recent) - 1, max(len(recent) - _MERGE_WINDOW, 0) - 1, -1):
            known = recent[index]
            if known.event_id == entry.event_id:
                if entry.transport not in known.transport.split(", "):
                    merged = f"{known.transport}, {entry.transport}"
                    recent[index] = dataclasses.replace(known, transport=merged)
                return
        recent.append(entry)

    def tail(self, limit: int = 50) -> list[TailEntry]:
        """The most recent published events, newest first."""
        with self._lock:
            entries = list(self._tail)
        return entries[::-1][:limit]

    def minute_counts(self, handler_id: str) -> MinuteCounts:
        """``handler_id``'s handled and failed calls in each of the last minutes."""
        minute = int(self._clock() // 60)
        span = range(minute - self._minutes + 1, minute + 1)
        with self._lock:
            per_minute = dict(self._counts.get(handler_id, {}))
        handled = tuple(per_minute.get(m, (0, 0))[0] for m in span)
        failed = tuple(per_minute.get(m, (0, 0))[1] for m in span)
        return MinuteCounts(handler_id, handled, failed)
