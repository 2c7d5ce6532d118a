"""Builders shared by the Redis Streams tests: settings, a bus on the transport, a drain."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis

from app.core.events import EventBus, Router
from app.core.events.envelope import Envelope, new_event_id
from app.core.events.subscriptions import Subscription
from tests.support.redis_server import delete_prefix
from transports.redis_common import connect
from transports.redis_streams import (
    RedisStreamsTransport,
    StreamKeys,
    StreamsSettings,
    StreamsWorker,
    select_subscriptions,
)

TRANSPORT = "redis-streams"


def bounded_client(url: str) -> Any:
    """A client for test code: every connect and reply is waited for at most a bounded time.

    Any ``EVENTBUS_REDIS_URL`` form (one Redis, ``redis+cluster://``, ``redis+sentinel://``).
    """
    if url.startswith("redis://"):
        return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
    return connect(url, "admin", block_ms=20_000)


@contextmanager
def cleaning_client(url: str, key_prefix: str) -> Iterator[Any]:
    """A bounded client of ``url`` that deletes ``key_prefix*`` and closes when done."""
    client = bounded_client(url)
    try:
        yield client
    finally:
        try:
            delete_prefix(client, key_prefix + "*")
        finally:
            client.close()


def fast_settings(
    prefix: str, url: str = "redis://127.0.0.1:6379/0", **overrides: Any
) -> StreamsSettings:
    """Settings with short timings so tests stay fast."""
    values: dict[str, Any] = {
        "redis_url": url,
        "keys": StreamKeys(prefix, hash_tagged=url.startswith(("redis+cluster", "rediss+cluster"))),
        "max_deliveries": 3,
        "claim_idle_ms": 1_000,
        "block_ms": 100,
        "batch_size": 50,
        "backoff_ms": 5,
        "maintenance_interval_ms": 500,
        "consumer_expiry_ms": 1_000,
    }
    values.update(overrides)
    return StreamsSettings(**values)


@dataclass
class StreamsRig:
    """A bus routed to a Redis Streams transport over ``client``, and ways to consume."""

    bus: EventBus
    transport: RedisStreamsTransport
    client: Any
    settings: StreamsSettings

    def worker(self, name: str = "drain", **options: Any) -> StreamsWorker:
        subs = select_subscriptions(self.bus.subscriptions(), options.pop("patterns", ()))
        return StreamsWorker(
            self.bus, self.settings, subs, consumer_name=name, client=self.client, **options
        )

    def drain(self, name: str = "drain") -> None:
        """Run a burst worker until everything published so far is handled or dead."""
        if not select_subscriptions(self.bus.subscriptions()):
            return
        self.worker(name).run(burst=True)


def make_rig(client: Any, settings: StreamsSettings) -> StreamsRig:
    bus = EventBus()
    transport = RedisStreamsTransport(client, settings)
    bus.configure(
        router=Router(TRANSPORT, {}, {"inprocess", TRANSPORT}),
        transports={TRANSPORT: transport},
        raise_handler_errors=False,
    )
    return StreamsRig(bus, transport, client, settings)


@contextmanager
def rig_on(url: str, key_prefix: str) -> Iterator[StreamsRig]:
    """A rig on the Redis at ``url`` (any topology); deletes ``key_prefix*`` and closes after."""
    client = connect(url, "worker", block_ms=1_000)
    try:
        with cleaning_client(url, key_prefix):
            yield make_rig(client, fast_settings(key_prefix, url))
    finally:
        client.close()


def envelope(event_type: str = "patient.created", **payload: Any) -> Envelope:
    return Envelope(
        id=new_event_id(),
        type=event_type,
        payload=payload or {"patient_id": "p1"},
        correlation_id=new_event_id(),
    )


def subscription(handler_id: str, pattern: str = "patient.created") -> Subscription:
    return Subscription(handler_id, pattern, lambda payload: None, TRANSPORT)


Factory = Callable[[str], StreamsRig]
