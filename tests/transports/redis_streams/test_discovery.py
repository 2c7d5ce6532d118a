"""Wildcard handlers and undeclared event names (``EVENTBUS_STRICT=False``) on real Redis.

A ``lab.*`` handler routed to Redis Streams receives ``lab.result_ready`` although no
``EventType`` declares it: a burst worker finds the stream at start, a running worker within
its claim interval.
"""

from __future__ import annotations

from typing import Any

from tests.transports.redis_streams.harness import StreamsRig
from tests.transports.redis_streams.processes import wait_until


def test_a_running_worker_discovers_a_new_matching_stream(rig: StreamsRig) -> None:
    rig.bus.configure(strict=False)
    got: list[tuple[str, Any]] = []
    rig.bus.subscribe("lab.*", lambda p: got.append(("lab", p["n"])), handler_id="t.lab")
    rig.bus.subscribe("patient.*", lambda p: got.append(("patient", p["n"])), handler_id="t.pat")
    worker = rig.worker("discovering")
    worker.start()
    try:
        assert "eventbus-discovery" in worker.running_threads()
        rig.bus.publish("lab.result_ready", {"n": 1})
        wait_until(lambda: ("lab", 1) in got, "the lab handler received lab.result_ready")
        rig.bus.publish("lab.sample_taken", {"n": 2})
        rig.bus.publish("lab.result_ready", {"n": 3})
        wait_until(lambda: len(got) >= 3, "the lab handler received three events")
    finally:
        worker.stop()
        worker.join(30)
    assert sorted(got) == [("lab", 1), ("lab", 2), ("lab", 3)]
    rig.bus.clear()


def test_a_burst_worker_reads_undeclared_streams_that_exist(rig: StreamsRig) -> None:
    rig.bus.configure(strict=False)
    got: list[int] = []
    rig.bus.subscribe("lab.*", lambda p: got.append(p["n"]), handler_id="t.lab")
    for n in range(3):
        rig.bus.publish("lab.result_ready", {"n": n})
    rig.drain()
    assert got == [0, 1, 2]
    rig.bus.clear()


def test_in_strict_mode_nothing_is_scanned(rig: StreamsRig) -> None:
    rig.bus.subscribe("patient.*", lambda p: None, handler_id="t.pat")
    worker = rig.worker("strict")
    worker.start()
    try:
        assert "eventbus-discovery" not in worker.running_threads()
    finally:
        worker.stop()
        worker.join(30)
    rig.bus.clear()
