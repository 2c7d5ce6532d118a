"""The Redis Streams transport on a 3-master Redis Cluster (``redis+cluster://``).

One cluster per session (``redis_cluster``), started from the same ``redis-server`` binary as
the other tests. Here: the whole transport contract suite, the hash-tagged key layout (every
multi-key command in one slot, event types spread over the masters), dead letters, replays,
claims, retention and stats, the outbox relay's batches, and a slot of a busy stream migrated
while events flow. The SIGKILL test runs on the cluster too (``test_faults``), and so do the
clinic's end-to-end tests (``tests/modules``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from redis.crc import key_slot

from app.core.events import EventType
from tests.support.redis_topologies import RedisClusterSetup
from tests.transports.contract import Features, Harness, TransportContract
from tests.transports.redis_streams.harness import (
    StreamsRig,
    envelope,
    make_rig,
    rig_on,
)
from transports.redis_common import connect
from transports.redis_streams import (
    StreamsDeadLetterStore,
    delete_idle_consumers,
    stats,
    trim_stream,
)

pytestmark = [pytest.mark.redis]
FEATURES = Features(synchronous=False, ordered=True, retries_failures=True)
CLINIC_TYPES = [str(name) for name in EventType]


@pytest.fixture
def cluster_rig(redis_cluster: RedisClusterSetup, key_prefix: str) -> Iterator[StreamsRig]:
    with rig_on(redis_cluster.url, key_prefix) as rig:
        yield rig


@pytest.fixture
def harness(cluster_rig: StreamsRig) -> Harness:
    return Harness(cluster_rig.bus, cluster_rig.transport, cluster_rig.drain, FEATURES)


class TestRedisStreamsContractOnCluster(TransportContract):
    """Every contract test, on Redis Streams over a Redis Cluster."""


def _masters_holding(setup: RedisClusterSetup, pattern: str) -> set[int]:
    holding = set()
    for node in setup.nodes:
        with node.client() as client:
            if next(iter(client.scan_iter(match=pattern, count=1000)), None) is not None:
                holding.add(node.port)
    return holding


def test_the_keys_of_the_clinic_event_types_spread_over_the_masters(
    cluster_rig: StreamsRig, redis_cluster: RedisClusterSetup, key_prefix: str
) -> None:
    received: list[str] = []

    def seen(payload: dict[str, Any]) -> None:
        received.append(payload["t"])

    for name in CLINIC_TYPES:
        cluster_rig.bus.subscribe(name, seen, handler_id="t.all")
    subs = {sub.pattern: sub for sub in cluster_rig.bus.subscriptions()}
    for name in CLINIC_TYPES:
        cluster_rig.transport.publish(envelope(name, t=name), [subs[name]])
    cluster_rig.drain()
    assert sorted(received) == sorted(CLINIC_TYPES)
    keys = cluster_rig.settings.keys
    streams = [keys.stream(name) for name in CLINIC_TYPES]
    assert len({key_slot(stream.encode()) for stream in streams}) == len(CLINIC_TYPES)
    assert len(_masters_holding(redis_cluster, f"{key_prefix}:stream:*")) >= 2
    for name in CLINIC_TYPES:  # what changes atomically with a stream shares its slot
        slot = key_slot(keys.stream(name).encode())
        assert key_slot(keys.replay("t.all", name).encode()) == slot
        assert key_slot(keys.dead_letters_of(keys.stream(name)).encode()) == slot


def test_dead_letters_replays_stats_and_batches_work_on_the_cluster(
    cluster_rig: StreamsRig, redis_cluster: RedisClusterSetup, key_prefix: str
) -> None:
    fail = {"patient.created": True, "invoice.paid": True}
    got: list[str] = []

    def flaky(payload: dict[str, Any]) -> None:
        if fail.get(payload["t"]):
            raise RuntimeError("not yet")
        got.append(payload["t"])

    for name in ("patient.created", "invoice.paid", "appointment.scheduled"):
        cluster_rig.bus.subscribe(name, flaky, handler_id="t.flaky")
    subs = {sub.pattern: sub for sub in cluster_rig.bus.subscriptions()}
    batch = [(envelope(name, t=name), [subs[name]]) for name in subs]
    cluster_rig.transport.publish_batch(batch)  # the relay's path: streams in 3 slots
    cluster_rig.drain()
    assert got == ["appointment.scheduled"]
    store = StreamsDeadLetterStore(cluster_rig.client, cluster_rig.settings.keys)
    letters = store.list()
    assert sorted(letter.id.partition("@")[2] for letter in letters) == [
        "invoice.paid",
        "patient.created",
    ]
    assert store.count() == 2 and store.count_by_handler() == {"t.flaky": 2}
    assert store.get(letters[0].id).envelope == letters[0].envelope
    for key in ("1-1", f"{letters[0].id.partition('@')[0]}", "1-1@nope.{x}"):
        with pytest.raises(KeyError):
            store.get(key)
    fail.clear()
    for letter in letters:
        store.replay(letter.id)  # one MULTI in the letter's slot: XADD replay + XDEL
    cluster_rig.drain()
    assert sorted(got) == ["appointment.scheduled", "invoice.paid", "patient.created"]
    assert store.count() == 0
    config = {
        "EVENTBUS_REDIS_URL": redis_cluster.url,
        "EVENTBUS_KEY_PREFIX": key_prefix,
        **{key: 1000 for key in _POSITIVE_KEYS},
    }
    report = stats(config, list(subs.values()))
    [row] = report.handlers
    assert (row.handler_id, row.pending, row.dead_letters) == ("t.flaky", 0, 0)


_POSITIVE_KEYS = (
    "EVENTBUS_MAX_DELIVERIES",
    "EVENTBUS_CLAIM_IDLE_MS",
    "EVENTBUS_BLOCK_MS",
    "EVENTBUS_BATCH_SIZE",
    "EVENTBUS_RETRY_BACKOFF_MS",
    "EVENTBUS_MAINTENANCE_INTERVAL_MS",
    "EVENTBUS_CONSUMER_EXPIRY_MS",
)


def _migrate_slot(setup: RedisClusterSetup, slot: int) -> tuple[int, int]:
    """Move ``slot`` to another master the way ``redis-cli --cluster reshard`` does."""
    source = setup.node_of_slot(slot)
    target = next(node for node in setup.nodes if node.port != source.port)
    with source.client() as src, target.client() as dst:
        source_id = src.execute_command("CLUSTER", "MYID").decode()
        target_id = dst.execute_command("CLUSTER", "MYID").decode()
        dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        while keys := src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100):
            src.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 10_000, "KEYS", *keys)
            time.sleep(0.05)  # events keep flowing meanwhile (ASK redirections)
        for node in setup.nodes:
            with node.client() as client:
                client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
    return source.port, target.port


@pytest.mark.slow
def test_a_busy_stream_whose_slot_migrates_loses_nothing(
    cluster_rig: StreamsRig, redis_cluster: RedisClusterSetup
) -> None:
    seen: dict[int, int] = {}
    lock = threading.Lock()

    def record(payload: dict[str, Any]) -> None:
        with lock:
            seen[payload["n"]] = seen.get(payload["n"], 0) + 1

    cluster_rig.bus.subscribe("patient.created", record, handler_id="t.rec")
    [sub] = cluster_rig.bus.subscriptions()
    stream = cluster_rig.settings.keys.stream("patient.created")
    slot = key_slot(stream.encode())
    published = 0
    stop = threading.Event()
    failures: list[BaseException] = []

    def feed() -> None:
        nonlocal published
        publisher = make_rig(connect(redis_cluster.url, "publisher"), cluster_rig.settings)
        try:
            while not stop.is_set():
                publisher.transport.publish(envelope("patient.created", n=published), [sub])
                published += 1
                time.sleep(0.002)
        except BaseException as exc:
            failures.append(exc)

    worker = cluster_rig.worker("mover")
    worker.start()
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        _wait(lambda: len(seen) >= 200, "the worker handling events")
        before, after = _migrate_slot(redis_cluster, slot)
        assert redis_cluster.node_of_slot(slot).port == after != before
        mark = published
        _wait(lambda: published >= mark + 200, "publishing after the move")
    finally:
        stop.set()
        feeder.join(30)
    _wait(lambda: len(seen) >= published, f"all {published} events handled", timeout=60)
    worker.stop()
    assert worker.join(30) and not failures
    assert sorted(seen) == list(range(published)), "nothing lost, nothing unexpected"


def _wait(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:g} s: {what}")
        time.sleep(0.02)


def test_retention_and_idle_consumers_on_the_cluster(cluster_rig: StreamsRig) -> None:
    cluster_rig.bus.subscribe("invoice.paid", lambda payload: None, handler_id="t.ret")
    [sub] = cluster_rig.bus.subscriptions()
    for n in range(60):
        cluster_rig.transport.publish(envelope("invoice.paid", n=n), [sub])
    cluster_rig.drain("old")
    keys, client = cluster_rig.settings.keys, cluster_rig.client
    stream = keys.stream("invoice.paid")
    seconds, micros = client.time()
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    removed = trim_stream(client, keys, stream, maxlen=10, max_age_ms=None, now_ms=now_ms)
    assert removed > 0 and int(client.hget(keys.trimmed, stream) or 0) == removed
    time.sleep(0.05)
    assert delete_idle_consumers(client, stream, "t.ret", expiry_ms=1) == ["old:0"]
