"""The streams worker always ends: stops within a bound, gives up on Redis in burst mode.

A hanging handler cannot keep ``run`` from returning after a stop; an exception in the
thread that runs the worker (Ctrl-C) stops every thread; a burst worker or consumer facing a
Redis that stays away gives up after a bounded number of attempts with a clear error (the
password masked); a drain whose handlers publish forever ends after its bounded rounds. No
assertion depends on timing: every wait is bounded and fails clearly if its event never came.
"""

from __future__ import annotations

import _thread
import signal
import threading
import time
from typing import Any

import pytest
from flask import Flask

from app.core.events import EventBus, EventType, TransportError, event_bus
from tests.support.redis_server import free_port
from tests.transports.redis_streams.harness import StreamsRig, fast_settings, subscription
from transports.redis_streams import (
    DrainUnsettledError,
    EntryDelivery,
    GroupConsumer,
    StreamsWorker,
    WorkerStuckError,
    connect,
    drain,
)


def test_run_returns_within_the_stop_timeout_when_a_handler_hangs(rig: StreamsRig) -> None:
    started, release = threading.Event(), threading.Event()

    def hangs(payload: dict[str, Any]) -> None:
        started.set()
        release.wait(60)

    rig.bus.subscribe(EventType.PATIENT_CREATED, hangs, handler_id="t.hangs")
    rig.bus.publish(EventType.PATIENT_CREATED, {"k": "a"})
    worker = rig.worker("w")

    def stop_once_started() -> None:
        if started.wait(60):
            worker.stop()

    stopper = threading.Thread(target=stop_once_started, daemon=True)
    stopper.start()
    try:
        with pytest.raises(WorkerStuckError, match=r"eventbus-t\.hangs-w:0"):
            worker.run(stop_timeout=0.2)
    finally:
        release.set()
        stopper.join(60)
        assert worker.join(timeout=60), worker.running_threads()
    assert (
        rig.client.xpending(rig.settings.keys.stream("patient.created"), "t.hangs")["pending"] == 0
    ), "the abandoned handler still acknowledged its entry when it returned"
    rig.bus.clear()


def test_an_exception_in_the_thread_running_the_worker_stops_every_thread(
    rig: StreamsRig,
) -> None:
    def interrupt(payload: dict[str, Any]) -> None:
        _thread.interrupt_main()  # as Ctrl-C would, while run() waits

    rig.bus.subscribe(EventType.PATIENT_CREATED, interrupt, handler_id="t.int")
    rig.bus.publish(EventType.PATIENT_CREATED, {"k": "a"})
    worker = rig.worker("w")
    guard = threading.Timer(60, worker.stop)  # if the interrupt never came: fail, not hang
    guard.daemon = True
    # a process started in the background ignores SIGINT, and interrupt_main() then does nothing
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    guard.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            worker.run()
    finally:
        guard.cancel()
        signal.signal(signal.SIGINT, previous)
    assert worker.stopping and worker.running_threads() == []
    rig.bus.clear()


def test_a_worker_waits_for_an_unreachable_redis_and_still_stops(key_prefix: str) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    worker = StreamsWorker(
        EventBus(), fast_settings(key_prefix, url), [subscription("t.h")], consumer_name="w"
    )
    starting = threading.Thread(target=worker.start, daemon=True)
    starting.start()
    time.sleep(0.3)
    assert starting.is_alive(), "still waiting for Redis (it never gives up outside burst mode)"
    worker.stop()
    starting.join(60)
    assert not starting.is_alive() and worker.running_threads() == [], "started nothing"
    worker.close()


def test_a_burst_worker_gives_up_on_an_unreachable_redis(key_prefix: str) -> None:
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    worker = StreamsWorker(
        EventBus(),
        fast_settings(key_prefix, url),
        [subscription("t.h")],
        consumer_name="w",
        reconnect_attempts=3,
    )
    gave_up = r"gave up on creating its consumer groups: .* after 3 attempts"
    with pytest.raises(TransportError, match=gave_up) as failure:
        worker.run(burst=True)
    assert "secret" not in str(failure.value) and worker.running_threads() == []
    worker.close()


def test_a_burst_consumer_gives_up_when_redis_errors_persist(key_prefix: str) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings = fast_settings(key_prefix, url)
    client = connect(url, "worker", block_ms=settings.block_ms)
    consumer = GroupConsumer(
        EntryDelivery(EventBus(), client, settings, "t.h", "w:0"),
        (settings.keys.stream("patient.created"),),
    )
    with pytest.raises(TransportError, match=r"gave up on handler t\.h: .* after 3 attempts"):
        consumer.run(threading.Event(), burst=True, reconnect_attempts=3)
    client.close()


def test_drain_gives_up_on_handlers_that_publish_forever(streams_app: Flask) -> None:
    def echo(payload: dict[str, Any]) -> None:
        event_bus.publish(EventType.PATIENT_UPDATED, {"n": payload["n"] + 1})

    event_bus.subscribe(EventType.PATIENT_UPDATED, echo, handler_id="t.echo")
    try:
        event_bus.publish(EventType.PATIENT_UPDATED, {"n": 0})
        with pytest.raises(DrainUnsettledError, match="after 3 burst rounds"):
            drain(streams_app, ["t.echo"], max_rounds=3)
    finally:
        event_bus.unsubscribe(EventType.PATIENT_UPDATED, echo)


def test_a_burst_run_reads_its_backlog_and_leaves_new_events_for_the_next(
    rig: StreamsRig,
) -> None:
    seen: list[int] = []

    def feeds_itself(payload: dict[str, Any]) -> None:
        seen.append(payload["n"])
        rig.bus.publish(EventType.PATIENT_CREATED, {"n": payload["n"] + 10})

    rig.bus.subscribe(EventType.PATIENT_CREATED, feeds_itself, handler_id="t.feeds")
    for n in range(3):
        rig.bus.publish(EventType.PATIENT_CREATED, {"n": n})
    first = rig.worker("w")
    first.run(burst=True)
    assert (first.handled, seen) == (3, [0, 1, 2]), "the events published meanwhile wait"
    second = rig.worker("w")
    second.run(burst=True)
    assert (second.handled, seen[3:]) == (3, [10, 11, 12])
    rig.bus.clear()
