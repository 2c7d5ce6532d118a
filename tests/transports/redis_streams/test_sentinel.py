"""The Redis Streams transport on a Sentinel-watched master (``redis+sentinel://``).

One set-up per session (``redis_sentinel``: a master, a replica, three Sentinels). The contract
suite runs on it, and a failover under load (``SENTINEL FAILOVER`` while events are published
and handled) loses no event that Redis acknowledged to the publisher; the workers go on on
the new master by themselves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.core.events.exceptions import TransportError
from tests.support.redis_topologies import MASTER_NAME, SentinelSetup
from tests.transports.contract import Features, Harness, TransportContract
from tests.transports.redis_streams.harness import (
    StreamsRig,
    envelope,
    make_rig,
    rig_on,
)
from transports.redis_common import connect

pytestmark = [pytest.mark.redis]
FEATURES = Features(synchronous=False, ordered=True, retries_failures=True)


@pytest.fixture
def sentinel_rig(redis_sentinel: SentinelSetup, key_prefix: str) -> Iterator[StreamsRig]:
    with rig_on(redis_sentinel.url, key_prefix) as rig:
        yield rig


@pytest.fixture
def harness(sentinel_rig: StreamsRig) -> Harness:
    return Harness(sentinel_rig.bus, sentinel_rig.transport, sentinel_rig.drain, FEATURES)


class TestRedisStreamsContractOnSentinel(TransportContract):
    """Every contract test, on Redis Streams over a Sentinel-watched master."""


@pytest.mark.slow
def test_a_failover_under_load_loses_no_acknowledged_event_and_workers_resume(
    sentinel_rig: StreamsRig, redis_sentinel: SentinelSetup
) -> None:
    seen: dict[int, int] = {}
    lock = threading.Lock()

    def record(payload: dict[str, Any]) -> None:
        with lock:
            seen[payload["n"]] = seen.get(payload["n"], 0) + 1

    sentinel_rig.bus.subscribe("patient.created", record, handler_id="t.rec")
    [sub] = sentinel_rig.bus.subscriptions()
    acknowledged: list[int] = []
    refused: list[int] = []
    stop = threading.Event()

    def feed() -> None:
        publisher = make_rig(connect(redis_sentinel.url, "publisher"), sentinel_rig.settings)
        n = 0
        while not stop.is_set():
            try:
                publisher.transport.publish(envelope("patient.created", n=n), [sub])
                acknowledged.append(n)
            except TransportError:  # during the switch: not acknowledged, not counted
                refused.append(n)
                time.sleep(0.05)
            n += 1
            time.sleep(0.002)

    worker = sentinel_rig.worker("survivor")
    worker.start()
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    old_master = redis_sentinel.master_port()
    try:
        _wait(lambda: len(seen) >= 200, "the worker handling events")
        with redis_sentinel.sentinels[0].client() as sentinel:
            sentinel.execute_command("SENTINEL", "FAILOVER", MASTER_NAME)
        _wait(
            lambda: redis_sentinel.master_port() != old_master, "the Sentinels naming a new master"
        )
        mark = len(acknowledged)
        _wait(lambda: len(acknowledged) >= mark + 200, "publishing on the new master")
        handled_before = len(seen)
        _wait(lambda: len(seen) >= handled_before + 100, "the worker handling on the new master")
    finally:
        stop.set()
        feeder.join(30)
    _wait(lambda: set(acknowledged) <= set(seen), "every acknowledged event handled", timeout=60)
    worker.stop()
    assert worker.join(30) and worker.running_threads() == []
    lost = set(acknowledged) - set(seen)
    print(f"\n[failover] acknowledged={len(acknowledged)} refused={len(refused)} lost={len(lost)}")
    assert not lost


def _wait(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:g} s: {what}")
        time.sleep(0.02)
