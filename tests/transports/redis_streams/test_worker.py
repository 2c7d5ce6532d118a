"""The streams worker in-process (threads) against a real Redis: retries, stops, recovery."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.core.events import (
    EventType,
    bind_correlation_id,
    current_event,
)
from app.log import configure_logging, get_logger, log_context
from tests.support.redis_server import RedisServer
from tests.transports.redis_streams.harness import StreamsRig, fast_settings, make_rig
from tests.transports.redis_streams.processes import wait_until
from transports.redis_streams import StreamsDeadLetterStore


def _store(rig: StreamsRig) -> StreamsDeadLetterStore:
    return StreamsDeadLetterStore(rig.client, rig.settings.keys)


def test_a_failing_handler_is_retried_with_backoff_then_dead_lettered(
    redis_client: Any, real_redis: RedisServer, key_prefix: str
) -> None:
    rig = make_rig(redis_client, fast_settings(key_prefix, real_redis.url, backoff_ms=50))
    attempts: list[float] = []
    got: list[str] = []

    def broken(payload: dict[str, Any]) -> None:
        attempts.append(time.monotonic())
        raise ValueError("bad luck")

    rig.bus.subscribe(EventType.PATIENT_CREATED, broken, handler_id="t.broken")
    rig.bus.subscribe(EventType.PATIENT_CREATED, lambda p: got.append(p["k"]), handler_id="t.ok")
    rig.bus.publish(EventType.PATIENT_CREATED, {"k": "a"})
    rig.drain()
    assert got == ["a"]
    assert len(attempts) == rig.settings.max_deliveries == 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1, "the backoff doubles with each delivery"
    [letter] = _store(rig).list()
    assert (letter.handler_id, letter.deliveries, letter.error_class) == (
        "t.broken",
        3,
        "ValueError",
    )
    assert letter.reason == "bad luck" and letter.envelope is not None
    assert (
        rig.client.xpending(rig.settings.keys.stream("patient.created"), "t.broken")["pending"] == 0
    )
    rig.bus.clear()


def test_the_handler_sees_its_event_and_log_context(rig: StreamsRig) -> None:
    seen: list[tuple[Any, dict[str, Any]]] = []
    rig.bus.subscribe(
        EventType.PATIENT_CREATED,
        lambda p: seen.append((current_event(), log_context())),
        handler_id="t.ctx",
    )
    with bind_correlation_id("req-9"):
        rig.bus.publish(EventType.PATIENT_CREATED, {"k": "a"})
    rig.drain()
    [(event, logged)] = seen
    assert event is not None and event.correlation_id == "req-9"
    assert logged == {"correlation_id": "req-9", "event_id": event.id, "handler_id": "t.ctx"}
    rig.bus.clear()


def test_a_restarted_worker_drains_its_own_pending_entries_first(rig: StreamsRig) -> None:
    got: list[str] = []
    rig.bus.subscribe(EventType.PATIENT_CREATED, lambda p: got.append(p["k"]), handler_id="t.own")
    for k in "abc":
        rig.bus.publish(EventType.PATIENT_CREATED, {"k": k})
    stream = rig.settings.keys.stream("patient.created")
    rig.client.xreadgroup("t.own", "w:0", {stream: ">"}, count=2)  # "w" read 2, then died
    rig.drain(name="w")
    assert got == ["a", "b", "c"]
    assert rig.client.xpending(stream, "t.own")["pending"] == 0
    rig.bus.clear()


def test_stop_lets_the_running_handler_finish_and_acknowledges_it(rig: StreamsRig) -> None:
    started, release = threading.Event(), threading.Event()
    done: list[str] = []

    def slow(payload: dict[str, Any]) -> None:
        started.set()
        release.wait(60)
        done.append(payload["k"])

    rig.bus.subscribe(EventType.PATIENT_CREATED, slow, handler_id="t.slow")
    for k in "abc":
        rig.bus.publish(EventType.PATIENT_CREATED, {"k": k})
    worker = rig.worker("w")
    worker.start()
    try:
        assert started.wait(60), "the handler never started"
    finally:
        worker.stop()
        release.set()
        assert worker.join(timeout=60), worker.running_threads()
    assert done == ["a"]
    stream = rig.settings.keys.stream("patient.created")
    pending = rig.client.xpending(stream, "t.slow")
    assert pending["pending"] == 2, "the handled entry was acknowledged; the others wait for w"
    rig.drain(name="w")
    assert done == ["a", "b", "c"]
    rig.bus.clear()


def test_concurrency_runs_one_consumer_per_slot(rig: StreamsRig) -> None:
    threads: set[str] = set()
    lock = threading.Lock()
    both_busy = threading.Barrier(2, timeout=60)

    def record(payload: dict[str, Any]) -> None:
        name = threading.current_thread().name
        with lock:
            first = name not in threads
            threads.add(name)
        if first:
            both_busy.wait()  # each slot's first handler waits for the other slot's

    rig.bus.subscribe(EventType.PATIENT_CREATED, record, handler_id="t.conc")
    for n in range(200):
        rig.bus.publish(EventType.PATIENT_CREATED, {"n": n})
    worker = rig.worker("w", concurrency=2)
    worker.run(burst=True)
    assert worker.handled == 200
    assert threads == {"eventbus-t.conc-w:0", "eventbus-t.conc-w:1"}
    rig.bus.clear()


def test_a_vanished_group_is_recreated_from_the_start(rig: StreamsRig, caplog: Any) -> None:
    got: list[str] = []
    rig.bus.subscribe(EventType.PATIENT_CREATED, lambda p: got.append(p["k"]), handler_id="t.gone")
    rig.bus.publish(EventType.PATIENT_CREATED, {"k": "a"})
    worker = rig.worker("w")
    worker.start()
    try:
        wait_until(lambda: got == ["a"], "first event handled")
        stream = rig.settings.keys.stream("patient.created")
        rig.client.delete(stream)  # Redis "restarted" without persistence
        rig.client.xadd(stream, {"not": "an envelope"})  # written before the group is back
        rig.bus.publish(EventType.PATIENT_CREATED, {"k": "b"})
        wait_until(lambda: got == ["a", "b"], "event after the loss handled")
    finally:
        worker.stop()
        assert worker.join(60), worker.running_threads()
    assert [letter.error_class for letter in _store(rig).list()] == ["MalformedEnvelopeError"]
    rig.bus.clear()


def test_a_handler_never_started_more_than_max_deliveries(rig: StreamsRig) -> None:
    rig.bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="t.limit")
    rig.bus.publish(EventType.PATIENT_CREATED, {"k": "a"})
    stream = rig.settings.keys.stream("patient.created")
    [[_, [(entry_id, _)]]] = rig.client.xreadgroup("t.limit", "w:0", {stream: ">"})
    for _ in range(2):  # two more deliveries that never finished (a crash loop)
        rig.client.xclaim(stream, "t.limit", "w:0", 0, [entry_id])
    rig.drain(name="w")
    [letter] = _store(rig).list()
    assert (letter.deliveries, letter.error_class) == (3, "DeliveryLimitExceeded")
    rig.bus.clear()


@pytest.mark.parametrize("patterns", [("t.a",), ("t.*",)])
def test_handler_patterns_choose_the_groups(rig: StreamsRig, patterns: tuple[str, ...]) -> None:
    rig.bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="t.a")
    rig.bus.subscribe("invoice.*", lambda p: None, handler_id="t.b")
    worker = rig.worker("w", patterns=patterns)
    expected = {"t.a"} if patterns == ("t.a",) else {"t.a", "t.b"}
    assert set(worker.plan) == expected
    assert worker.plan["t.a"] == (
        rig.settings.keys.stream("patient.created"),
        rig.settings.keys.replay("t.a"),
    )
    rig.bus.clear()


def test_acknowledgements_are_sent_before_a_redelivered_entry_runs(rig: StreamsRig) -> None:
    stream = rig.settings.keys.stream("patient.created")
    seen: list[tuple[str, int]] = []

    def check(payload: dict[str, Any]) -> None:
        seen.append((payload["k"], rig.client.xpending(stream, "t.own")["pending"]))

    rig.bus.subscribe(EventType.PATIENT_CREATED, check, handler_id="t.own")
    for k in "abc":
        rig.bus.publish(EventType.PATIENT_CREATED, {"k": k})
    rig.client.xreadgroup("t.own", "w:0", {stream: ">"}, count=3)  # "w" read 3, then died
    rig.drain(name="w")
    # a redelivered entry may be the one that killed "w": those before it are settled first
    assert seen == [("a", 3), ("b", 2), ("c", 1)]
    rig.bus.clear()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Set up before ``capsys`` (so torn down after it): logging writes to the real stderr
    again, not to the closed capture of the test."""
    yield
    configure_logging("WARNING", "json")


def test_a_handler_s_log_lines_name_its_event_and_the_worker_s_do_not_leak_it(
    restore_logging: None, rig: StreamsRig, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a user reads: the JSON line a handler writes names the handler, the event and the
    correlation id; a line the worker's thread writes after it names no event."""
    configure_logging("INFO", "json")
    rig.bus.subscribe(
        EventType.PATIENT_CREATED,
        lambda p: get_logger("t").info("handled"),
        handler_id="t.logs",
    )
    with bind_correlation_id("req-3"):
        rig.bus.publish(EventType.PATIENT_CREATED, {"k": "a"})
    rig.drain()
    get_logger("t").info("after")
    rig.bus.clear()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if "{" in line]
    [handled] = [line for line in lines if line["event"] == "handled"]
    assert handled["handler_id"] == "t.logs" and handled["correlation_id"] == "req-3"
    assert len(handled["event_id"]) == 32
    [after] = [line for line in lines if line["event"] == "after"]
    assert "event_id" not in after and "correlation_id" not in after
