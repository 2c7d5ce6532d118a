"""The Redis Streams worker: ``flask events worker``, or embedded in a test or a script.

A worker runs (which consumers: ``assignment.ConsumerSet``), for each of ``concurrency`` slots
and each handler routed to ``redis-streams`` (optionally narrowed by handler-id patterns), one
:class:`GroupConsumer` thread named ``<worker name>:<slot>`` in that handler's group. Handlers
are plain sync Python, so threads give concurrency, and one handler's slowness or failures
never hold up another's. The worker name must be unique among running workers: it defaults to
``<host name>-<process id>``, so two workers on one host never share a consumer. A name kept
across restarts (``consumer_name``; in a container, whose process id is stable, the default
is one) lets a restarted worker drain its own pending entries first; otherwise they are
claimed after ``EVENTBUS_CLAIM_IDLE_MS``.
A maintenance thread trims streams (``retention``) and deletes idle consumers every
``EVENTBUS_MAINTENANCE_INTERVAL_MS``. With ``EVENTBUS_STRICT=False`` a wildcard handler also
reads the streams of event names that are not declared (``discovery``): those that exist at
start, and new ones within ``claim_interval_s`` (at most 5 s) while the worker runs.

Embedding::

    worker = StreamsWorker.from_app(app, handler_patterns=["notifications.*"])
    worker.run(burst=True)            # return once nothing is left to do
    drain(app)                        # the same, repeated until handlers publish nothing more
    with running_worker(app):         # a background worker for the duration of a block
        ...

``stop()`` is graceful (running handlers finish, their acknowledgements are sent, threads
exit) and may be called from any thread or a signal handler. ``run`` returns within
``stop_timeout`` seconds of a stop or raises :class:`WorkerStuckError`, and raises
:class:`WorkerCrashedError` when a thread died, so a supervisor restarts the process rather
than leaving it half alive (``threads``). A burst run never waits for Redis forever:
after ``reconnect_attempts`` consecutive failures it raises ``TransportError`` (at start) or
:class:`WorkerCrashedError` (a consumer gave up).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from flask import Flask

from app.core.events.bus import EventBus
from app.core.events.exceptions import ConfigurationError
from app.core.events.subscriptions import Subscription
from app.log import get_logger
from app.worker_scope import WorkerScope

from ..redis_common import RedisClient, connect, mask_url
from .assignment import ConsumerSet, select_subscriptions
from .consumer import GroupConsumer
from .delivery import ContextFactory
from .discovery import watch_for_streams
from .embedding import DrainUnsettledError, drain, running_worker
from .reconnect import BURST_RECONNECT_ATTEMPTS, RedisErrors
from .retention import maintain
from .settings import StreamsSettings
from .stats import persistence_warnings
from .threads import (
    DEFAULT_STOP_TIMEOUT_S,
    WorkerCrashedError,
    WorkerStuckError,
    WorkerThreads,
)

__all__ = [
    "DEFAULT_STOP_TIMEOUT_S",
    "DrainUnsettledError",
    "StreamsWorker",
    "WorkerCrashedError",
    "WorkerStuckError",
    "drain",
    "running_worker",
    "select_subscriptions",
]


class StreamsWorker:
    """Consumer threads for some handlers' groups; see the module docstring."""

    def __init__(
        self,
        bus: EventBus,
        settings: StreamsSettings,
        subscriptions: Sequence[Subscription],
        *,
        concurrency: int = 1,
        consumer_name: str | None = None,
        client: RedisClient | None = None,
        context: ContextFactory | None = None,
        after_delivery: Callable[[], None] | None = None,
        reconnect_attempts: int = BURST_RECONNECT_ATTEMPTS,
    ) -> None:
        for option, value in (
            ("concurrency", concurrency),
            ("reconnect_attempts", reconnect_attempts),
        ):
            if value < 1:
                raise ConfigurationError(f"{option} must be at least 1, got {value}")
        if not subscriptions:
            raise ConfigurationError(
                "no handler is routed to redis-streams here: set EVENTBUS_TRANSPORT or "
                "EVENTBUS_ROUTES, or check the --handler patterns"
            )
        self.bus = bus
        self.settings = settings
        self.name = consumer_name or f"{socket.gethostname()}-{os.getpid()}"
        self.concurrency = concurrency
        self.reconnect_attempts = reconnect_attempts
        self.client = client or connect(
            settings.redis_url,
            "worker",
            client_name=f"{settings.keys.prefix}:worker:{self.name}",
            block_ms=settings.block_ms,
        )
        self.assigned = ConsumerSet(
            bus,
            settings,
            self.client,
            subscriptions,
            name=self.name,
            concurrency=concurrency,
            context=context,
            after_delivery=after_delivery,
        )
        self._burst = False
        self._log: Any = get_logger("eventbus.streams")
        self._threads = WorkerThreads(self._log)
        self._stop = self._threads.stop_flag

    @classmethod
    def from_app(
        cls,
        app: Flask,
        handler_patterns: Sequence[str] = (),
        *,
        concurrency: int = 1,
        consumer_name: str | None = None,
        client: RedisClient | None = None,
        reconnect_attempts: int = BURST_RECONNECT_ATTEMPTS,
    ) -> StreamsWorker:
        """A worker for ``app``'s handlers routed here, run inside the app (a WorkerScope)."""
        bus = app.extensions["eventbus"].bus
        scope = WorkerScope(app)
        return cls(
            bus,
            StreamsSettings.from_config(app.config),
            select_subscriptions(bus.subscriptions(), handler_patterns),
            concurrency=concurrency,
            consumer_name=consumer_name,
            client=client,
            context=scope.batch,
            after_delivery=scope.after_delivery,
            reconnect_attempts=reconnect_attempts,
        )

    @property
    def plan(self) -> dict[str, tuple[str, ...]]:
        """Handler id → every stream its group reads here (``ConsumerSet.plan``)."""
        return self.assigned.plan

    @property
    def consumers(self) -> list[GroupConsumer]:
        """One consumer per slot, handler and read set (``ConsumerSet.consumers``)."""
        return self.assigned.consumers

    def consumer(self, slot: int) -> str:
        """The consumer name of one slot: ``<worker name>:<slot>``."""
        return self.assigned.consumer(slot)

    @property
    def handled(self) -> int:
        """Entries handled successfully so far, over every thread (approximate while running)."""
        return sum(consumer.handled for consumer in self.consumers)

    def start(self, burst: bool = False) -> None:
        """Create the groups, then start every consumer thread (and the maintenance thread).

        While Redis cannot be reached, retries with backoff until :meth:`stop` (then starts
        nothing), or in ``burst`` mode raises ``TransportError`` after ``reconnect_attempts``.
        """
        if not self._ensure_groups(burst):
            return
        discovering = not self.bus.strict
        if discovering:
            self._adopt(self.assigned.discover())
        for warning in persistence_warnings(self.client):
            self._log.warning("redis.settings_risk", warning=warning)
        self._log.info(
            "worker.started",
            worker=self.name,
            handlers=sorted(self.plan),
            concurrency=self.concurrency,
            redis=mask_url(self.settings.redis_url),
            burst=burst,
        )
        self._threads.burst = burst
        self._burst = burst
        own = {self.consumer(slot) for slot in range(self.concurrency)}
        upkeep = partial(maintain, self.client, self.settings, self.plan, own, self._stop)
        services = [("eventbus-maintenance", upkeep)]
        if discovering:
            watch = partial(
                watch_for_streams,
                self.assigned.discover,
                self._adopt_and_start,
                self.settings.claim_interval_s,
                self._stop,
                self._log,
            )
            services.append(("eventbus-discovery", watch))
        self._threads.start(self._runs(self.consumers), [] if burst else services)

    def _runs(self, consumers: Sequence[GroupConsumer]) -> list[tuple[str, Callable[[], None]]]:
        return [
            (
                f"eventbus-{consumer.group}-{consumer.consumer}{consumer.read_set_label}",
                partial(
                    consumer.run,
                    self._stop,
                    self._burst,
                    reconnect_attempts=self.reconnect_attempts,
                ),
            )
            for consumer in consumers
        ]

    def _adopt(self, found: dict[str, frozenset[str]]) -> list[GroupConsumer]:
        """Adopt discovered streams (``ConsumerSet.adopt``), saying so in the log."""
        added = self.assigned.adopt(found)
        if added:
            self._log.info(
                "worker.streams_discovered",
                handlers={h: sorted(n) for h, n in sorted(found.items())},
            )
        return added

    def _adopt_and_start(self, found: dict[str, frozenset[str]]) -> None:
        self._threads.start(self._runs(self._adopt(found)))

    def run(self, burst: bool = False, *, stop_timeout: float = DEFAULT_STOP_TIMEOUT_S) -> None:
        """Start, then block until stopped (or idle, in burst mode); raise if a thread crashed.

        Returns within ``stop_timeout`` seconds of a stop, else raises
        :class:`WorkerStuckError` naming the threads still running.
        """
        try:
            self.start(burst)
        except BaseException:
            self.stop()
            self.join(stop_timeout)
            raise
        self._threads.wait(stop_timeout)
        self._log.info("worker.stopped", worker=self.name, handled=self.handled)

    def stop(self) -> None:
        """Ask every thread to finish its running handler and exit; returns at once."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for every thread to end; ``True`` if they all did within ``timeout``."""
        return self._threads.join(timeout)

    def running_threads(self) -> list[str]:
        """The names of this worker's threads that are still running."""
        return self._threads.running()

    def close(self) -> None:
        """Release the Redis connections (after the threads ended)."""
        self.client.close()

    def _ensure_groups(self, burst: bool) -> bool:
        """Create every group; ``False`` if stopped while Redis was unreachable."""
        errors = RedisErrors(
            self._log,
            subject="creating its consumer groups",
            redis_url=self.settings.redis_url,
            give_up_after=self.reconnect_attempts if burst else None,
            worker=self.name,
        )
        return errors.retry(self.assigned.create_groups, self._stop)
