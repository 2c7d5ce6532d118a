"""The Redis Streams transport against the contract suite: on fakeredis and on a real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import fakeredis
import pytest
import redis

from tests.support.redis_server import RedisServer, delete_prefix
from tests.transports.contract import Features, Harness, TransportContract
from tests.transports.redis_streams.harness import bounded_client, fast_settings, make_rig

FEATURES = Features(synchronous=False, ordered=True, retries_failures=True)


@pytest.fixture(params=["fakeredis", "real-redis"])
def harness(request: pytest.FixtureRequest, key_prefix: str) -> Iterator[Harness]:
    client: redis.Redis
    if request.param == "fakeredis":
        client = fakeredis.FakeRedis()
        url = "redis://fakeredis/0"
    else:
        server: RedisServer = request.getfixturevalue("real_redis")
        client = bounded_client(server.url)
        url = server.url
    rig = make_rig(client, fast_settings(key_prefix, url))
    try:
        yield Harness(rig.bus, rig.transport, rig.drain, FEATURES)
    finally:
        cleaner = bounded_client(url) if request.param != "fakeredis" else client
        try:
            delete_prefix(cleaner, key_prefix + "*")
        finally:
            cleaner.close()


class TestRedisStreamsContract(TransportContract):
    """Every contract test, on Redis Streams (fakeredis and real Redis)."""
