"""The Redis Streams worker: ``flask events worker``, or embedded in a test or a script.

A worker runs, for each of ``concurrency`` slots and each handler routed to
``redis-streams`` (optionally narrowed by handler-id patterns), one :class:`GroupConsumer`
thread named ``<worker name>:<slot>`` in that handler's group. Handlers are plain sync
Python, so threads give concurrency, and one handler's slowness or failures never hold up
another's. The worker name defaults to the host name: it must be stable across restarts (so a
restarted worker drains its own pending entries first) and unique among running workers.
A maintenance thread trims streams (``streams_retention``) and deletes idle consumers every
``EVENTBUS_MAINTENANCE_INTERVAL_MS``.

Embedding::

    worker = StreamsWorker.from_app(app, handler_patterns=["notifications.*"])
    worker.run(burst=True)            # return once nothing is left to do
    drain(app)                        # the same, repeated until handlers publish nothing more
    with running_worker(app):         # a background worker for the duration of a block
        ...

``stop()`` is graceful (each running handler finishes, its acknowledgement is sent, threads
exit) and may be called from any thread or a signal handler (``flask events worker`` installs
SIGTERM/SIGINT handlers that call it).
If a consumer thread dies of an unexpected error the whole worker stops and ``run`` raises
:class:`WorkerCrashedError`, so a supervisor restarts the process rather than leaving it half alive.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from fnmatch import fnmatchcase
from typing import Any

from flask import Flask
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.core.events.bus import EventBus
from app.core.events.exceptions import ConfigurationError, EventBusError
from app.core.events.subscriptions import Subscription
from app.log import get_logger
from app.worker_scope import WorkerScope

from .streams_claim import raw_autoclaim_client
from .streams_consumer import GroupConsumer
from .streams_dead_letters import TRANSPORT_NAME, ensure_group
from .streams_delivery import ContextFactory, EntryDelivery
from .streams_keys import handler_event_types
from .streams_retention import maintain
from .streams_settings import StreamsSettings, connect, mask_url
from .streams_stats import persistence_warnings

__all__ = [
    "StreamsWorker",
    "WorkerCrashedError",
    "drain",
    "running_worker",
    "select_subscriptions",
]


class WorkerCrashedError(EventBusError):
    """A consumer thread died of an unexpected error; the worker stopped."""


def select_subscriptions(
    subscriptions: Iterable[Subscription], patterns: Sequence[str] = ()
) -> list[Subscription]:
    """The subscriptions routed to Redis Streams whose handler id matches one of ``patterns``."""
    return [
        sub
        for sub in subscriptions
        if sub.transport == TRANSPORT_NAME
        and (not patterns or any(fnmatchcase(sub.handler_id, p) for p in patterns))
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
        client: Any = None,
        context: ContextFactory | None = None,
        after_delivery: Callable[[], None] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ConfigurationError(f"concurrency must be at least 1, got {concurrency}")
        if not subscriptions:
            raise ConfigurationError(
                "no handler is routed to redis-streams here: set EVENTBUS_TRANSPORT or "
                "EVENTBUS_ROUTES, or check the --handler patterns"
            )
        self.bus = bus
        self.settings = settings
        self.name = consumer_name or socket.gethostname()
        self.concurrency = concurrency
        self.client = client or connect(
            settings.redis_url,
            "worker",
            client_name=f"{settings.keys.prefix}:worker:{self.name}",
            block_ms=settings.block_ms,
        )
        keys = settings.keys
        self.plan = {
            handler_id: keys.handler_streams(handler_id, types)
            for handler_id, types in sorted(handler_event_types(subscriptions).items())
        }
        raw = raw_autoclaim_client(self.client)
        self.consumers = [
            GroupConsumer(
                EntryDelivery(
                    bus,
                    self.client,
                    settings,
                    handler_id,
                    self.consumer(slot),
                    context=context,
                    after_delivery=after_delivery,
                ),
                raw,
                streams,
            )
            for slot in range(concurrency)
            for handler_id, streams in self.plan.items()
        ]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._crash: BaseException | None = None
        self._log: Any = get_logger("eventbus.streams")

    @classmethod
    def from_app(
        cls,
        app: Flask,
        handler_patterns: Sequence[str] = (),
        *,
        concurrency: int = 1,
        consumer_name: str | None = None,
        client: Any = None,
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
        )

    def consumer(self, slot: int) -> str:
        """The consumer name of one slot: ``<worker name>:<slot>``."""
        return f"{self.name}:{slot}"

    @property
    def handled(self) -> int:
        """Entries handled successfully so far, over every thread (approximate while running)."""
        return sum(consumer.handled for consumer in self.consumers)

    def start(self, burst: bool = False) -> None:
        """Create the groups, then start every consumer thread (and the maintenance thread).

        Waits (with backoff, logging ``redis.unavailable``) while Redis cannot be reached.
        """
        self._ensure_groups()
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
        for consumer in self.consumers:
            name = f"eventbus-{consumer.group}-{consumer.consumer}"
            thread = threading.Thread(
                target=self._consume, args=(consumer, burst), name=name, daemon=True
            )
            self._threads.append(thread)
            thread.start()
        if not burst:
            own = {self.consumer(slot) for slot in range(self.concurrency)}
            maintenance = threading.Thread(
                target=maintain,
                args=(self.client, self.settings, self.plan, own, self._stop),
                name="eventbus-maintenance",
                daemon=True,
            )
            self._threads.append(maintenance)
            maintenance.start()

    def run(self, burst: bool = False) -> None:
        """Start, then block until stopped (or idle, in burst mode); raise if a thread crashed."""
        self.start(burst)
        while not self.join(timeout=0.5):
            if burst and all(
                not t.is_alive() for t in self._threads if t.name != "eventbus-maintenance"
            ):
                self.stop()
        self._log.info("worker.stopped", worker=self.name, handled=self.handled)
        if self._crash is not None:
            raise WorkerCrashedError(f"a consumer thread died: {self._crash!r}") from self._crash

    def stop(self) -> None:
        """Ask every thread to finish its running handler and exit; returns at once."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for every thread to end; ``True`` if they all did within ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(remaining)
        return not any(thread.is_alive() for thread in self._threads)

    def close(self) -> None:
        """Release the Redis connections (after the threads ended)."""
        self.client.close()

    def _ensure_groups(self) -> None:
        delay = 0.1
        while True:
            try:
                for handler_id, streams in self.plan.items():
                    for stream in streams:
                        ensure_group(self.client, stream, handler_id)
                return
            except (RedisConnectionError, RedisTimeoutError) as exc:
                self._log.warning(
                    "redis.unavailable", worker=self.name, error=str(exc)[:300], retry_in_s=delay
                )
                if self._stop.wait(delay):
                    return
                delay = min(5.0, delay * 2)

    def _consume(self, consumer: GroupConsumer, burst: bool) -> None:
        try:
            consumer.run(self._stop, burst)
        except BaseException as exc:
            self._crash = exc
            self._log.critical(
                "consumer.crashed", handler_id=consumer.group, consumer=consumer.consumer,
                exc_info=exc,
            )  # fmt: skip
            self._stop.set()


def drain(app: Flask, handler_patterns: Sequence[str] = (), *, consumer_name: str = "drain") -> int:
    """Handle everything published so far, including events the handlers publish; return
    how many entries were handled. Burst workers run until one handles nothing."""
    total = 0
    while True:
        worker = StreamsWorker.from_app(app, handler_patterns, consumer_name=consumer_name)
        try:
            worker.run(burst=True)
        finally:
            worker.close()
        total += worker.handled
        if not worker.handled:
            return total


@contextmanager
def running_worker(
    app: Flask, handler_patterns: Sequence[str] = (), **options: Any
) -> Iterator[StreamsWorker]:
    """A worker consuming in background threads for the duration of the ``with`` block."""
    worker = StreamsWorker.from_app(app, handler_patterns, **options)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        worker.join(timeout=60)
        worker.close()
