"""Fixtures of the RQ transport tests: a real Redis client, settings and a publishing bus.

Every key a test writes carries its ``key_prefix`` (queues ``<prefix>:<name>``, jobs
``<prefix>-<digest>``, workers named ``<prefix>-...``) and is deleted after the test.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from app.core.events import EventBus, Router
from tests.support.processes import OWNER_VARIABLE, describe_process, kill_tree, owned_by
from tests.support.redis_server import RedisServer
from tests.support.rq_workers import app_environment, delete_rq_keys
from transports.rq_queue import RQSettings, RQTransport

SAMPLE_PACKAGE = "tests.transports.rq_queue.sample_modules"
SAMPLE_HANDLERS = {
    "rqsample.on_patient_created": "patient.created",
    "rqsample.always_fails": "invoice.paid",
    "rqsample.stall_first": "appointment.cancelled",
    "rqbilling.on_patient_created": "patient.created",
}


_tests = itertools.count()


@pytest.fixture(autouse=True)
def owned_processes_ended(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every process this test starts carries its token; any left running is ended and fails it.

    A process still exiting gets a few seconds; then each one left (reparented to init or
    not: forks inherit the token) is killed with its tree, by pid, and the test errors.
    """
    token = f"{os.getpid()}-{next(_tests)}"
    monkeypatch.setenv(OWNER_VARIABLE, token)
    yield token
    deadline = time.monotonic() + 5
    left = owned_by(token)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = owned_by(token)
    names = ", ".join(describe_process(process) for process in left)
    for process in left:
        kill_tree(process.pid)
    if left:
        pytest.fail(f"the test left {len(left)} process(es) it started running: {names}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Whatever the tests' teardowns missed (a test interrupted mid-teardown) ends with the
    session: every process carrying one of this session's tokens, with its tree."""
    for process in owned_by(f"{os.getpid()}-", prefix=True):
        kill_tree(process.pid)


@dataclass
class Publisher:
    """A bus in this process routed to RQ: what a web process would publish with."""

    bus: EventBus
    transport: RQTransport
    settings: RQSettings
    client: redis.Redis


@pytest.fixture
def rq_client(real_redis: RedisServer, key_prefix: str) -> Iterator[redis.Redis]:
    """A client of the real Redis; every key of the test's prefix is deleted afterwards."""
    client = redis.Redis.from_url(real_redis.url)
    try:
        yield client
    finally:
        delete_rq_keys(client, key_prefix)
        client.close()


@pytest.fixture
def make_publisher(
    real_redis: RedisServer, key_prefix: str, rq_client: redis.Redis
) -> Iterator[Callable[..., Publisher]]:
    """``make_publisher(**config)``: a bus routed to RQ with these ``EVENTBUS_*`` settings."""
    made: list[RQTransport] = []

    def make(**config: Any) -> Publisher:
        settings = RQSettings.from_config(
            {"EVENTBUS_REDIS_URL": real_redis.url, "EVENTBUS_KEY_PREFIX": key_prefix, **config}
        )
        transport = RQTransport(settings, redis.Redis.from_url(real_redis.url))
        made.append(transport)
        bus = EventBus()
        bus.configure(
            router=Router("rq", {}, {"inprocess", "rq"}),
            transports={"rq": transport},
            raise_handler_errors=False,
        )
        return Publisher(bus, transport, settings, rq_client)

    yield make
    for transport in made:
        transport.close()


@pytest.fixture
def sample_publisher(make_publisher: Callable[..., Publisher]) -> Publisher:
    """A publisher whose bus knows the sample modules' handler ids (the handlers run elsewhere)."""
    publisher = make_publisher(
        EVENTBUS_RQ_RETRY_INTERVALS=[0],
        EVENTBUS_MAX_DELIVERIES=3,
        EVENTBUS_RQ_QUEUES={"rqbilling": "billing"},
    )
    for handler_id, event in SAMPLE_HANDLERS.items():
        publisher.bus.subscribe(event, _runs_in_a_worker, handler_id=handler_id)
    return publisher


def _runs_in_a_worker(payload: dict[str, Any]) -> None:
    raise AssertionError("routed to RQ: never called in the publishing process")


@pytest.fixture
def sample_env(real_redis: RedisServer, key_prefix: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a worker process whose app mounts the sample modules."""
    return app_environment(
        real_redis.url,
        key_prefix,
        tmp_path / "worker.db",
        MODULES_PACKAGE=SAMPLE_PACKAGE,
        EVENTBUS_RQ_RETRY_INTERVALS=[0],
        EVENTBUS_MAX_DELIVERIES=3,
        EVENTBUS_RQ_QUEUES={"rqbilling": "billing"},
        EVENTBUS_VALIDATE_PAYLOADS=False,  # the sample payloads are not the clinic's
    )
