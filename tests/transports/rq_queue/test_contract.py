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
from app.core.events.exceptions import ConfigurationError
from tests.support.redis_server import RedisServer
from tests.support.redis_topologies import SentinelSetup
from tests.support.rq_workers import delete_rq_keys
from tests.transports.contract import Features, Harness, TransportContract
from transports import rq_queue
from transports.redis_common import connect_master
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


@pytest.mark.redis
class TestRQContractOnSentinel(TransportContract):
    """Every contract test, RQ on the master that Sentinels name (``redis+sentinel://``)."""

    @pytest.fixture
    def harness(self, redis_sentinel: SentinelSetup, key_prefix: str) -> Iterator[Harness]:
        client = connect_master(redis_sentinel.url, socket_timeout=30)
        try:
            yield from rq_harness(client, key_prefix)
        finally:
            delete_rq_keys(client, key_prefix)
            client.close()


def test_rq_refuses_a_redis_cluster_url_and_says_what_works() -> None:
    with pytest.raises(ConfigurationError, match="RQ does not support Redis Cluster") as refused:
        RQSettings.from_config({"EVENTBUS_REDIS_URL": "redis+cluster://:pw@127.0.0.1:7000"})
    assert "redis+sentinel://" in str(refused.value) and "pw" not in str(refused.value)
