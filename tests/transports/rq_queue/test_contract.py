"""The RQ transport against the contract suite: on fakeredis and on a real Redis.

Both drain with RQ ``SimpleWorker`` bursts (the bus's :class:`BusSimpleWorker`, scheduler on)
in this process, because the contract subscribes closures that only this process knows. RQ's
own ``rq worker`` command, in a subprocess, runs the same jobs in ``tests/transports/rq_queue/``
(``test_rq_cli.py``), against handlers a sample module package registers by id.
"""

from __future__ import annotations

from collections.abc import Iterator

import fakeredis
import pytest
import redis

from app.core.events import EventBus, Router
from tests.support.redis_server import RedisServer
from tests.support.rq_workers import delete_rq_keys
from tests.transports.contract import Features, Harness, TransportContract
from transports import rq_queue
from transports.rq_queue import RQSettings, RQTransport, drain

FEATURES = Features(synchronous=False, ordered=False, retries_failures=True)


def rq_harness(client: redis.Redis, key_prefix: str) -> Iterator[Harness]:
    """A bus routed to RQ on ``client``; retries immediate so a drain sees them all."""
    settings = RQSettings.from_config(
        {
            "EVENTBUS_KEY_PREFIX": key_prefix,
            "EVENTBUS_RQ_RETRY_INTERVALS": [0],
            "EVENTBUS_MAX_DELIVERIES": 3,
        }
    )
    transport = RQTransport(settings, client)
    bus = EventBus()
    bus.configure(
        router=Router("rq", {}, {"inprocess", "rq"}),
        transports={"rq": transport},
        raise_handler_errors=False,
    )
    with rq_queue.installed(bus):
        yield Harness(
            bus=bus,
            transport=transport,
            drain=lambda: drain(client, settings.queue_names(), worker_name=key_prefix),
            features=FEATURES,
        )


class TestRQContractOnFakeRedis(TransportContract):
    """Every contract test, RQ on fakeredis (fast, in-process)."""

    @pytest.fixture
    def harness(self, key_prefix: str) -> Iterator[Harness]:
        yield from rq_harness(fakeredis.FakeRedis(), key_prefix)


@pytest.mark.redis
class TestRQContractOnRealRedis(TransportContract):
    """Every contract test, RQ on the real Redis server."""

    @pytest.fixture
    def harness(self, real_redis: RedisServer, key_prefix: str) -> Iterator[Harness]:
        client = redis.Redis.from_url(real_redis.url)
        try:
            yield from rq_harness(client, key_prefix)
        finally:
            delete_rq_keys(client, key_prefix)
            client.close()
