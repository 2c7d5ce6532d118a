"""Fault tests: real Redis, worker SUBPROCESSES killed, starved, fed garbage, cut off.

Each test checks the total-queue verdict after a full drain: every event handled at least
once by every handler (none lost), duplicates counted and reported, pending lists empty.
Timings are short (claim idle 1 s, backoff 20 ms) so each test takes seconds; every wait is
a bounded poll that fails naming what was not reached.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.redis_server import RedisServer
from tests.transports.streams.harness import envelope
from tests.transports.streams.processes import (
    Publisher,
    WorkerProcess,
    all_handled,
    handled,
    handled_by,
    pending_total,
    report,
    verdict,
    wait_until,
    worker_env,
    workers,
)
from transports.streams_dead_letters import StreamsDeadLetterStore
from transports.streams_keys import StreamKeys

pytestmark = [pytest.mark.redis, pytest.mark.slow]
RECORDERS = ("recorder.on_created", "recorder.on_patient")


def test_sigkill_mid_handler_and_restart_loses_nothing(
    redis_client: Any, real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    count = 3000
    publisher = Publisher(redis_client, real_redis.url, key_prefix, ("recorder",))
    env = worker_env(real_redis.url, key_prefix, ["recorder"])
    victim, *others = [WorkerProcess(f"w{i}", env, tmp_path) for i in range(3)]
    kills = 0
    with workers(victim, *others):
        feeding = publisher.paced(count, per_second=350, sleep_ms=1)
        while feeding.is_alive():
            wanted = handled_by(redis_client, key_prefix, victim.name) + 30
            wait_until(
                lambda wanted=wanted: (  # type: ignore[misc]
                    handled_by(redis_client, key_prefix, victim.name) >= wanted
                    or not feeding.is_alive()
                ),
                "the restarted victim is busy handling",
            )
            victim.signal(signal.SIGKILL)
            victim.wait(30)
            kills += 1
            victim.start()
        feeding.join(60)
        wait_until(
            lambda: all_handled(redis_client, key_prefix, count, RECORDERS),
            "every event handled by both handlers",
        )
        wait_until(lambda: pending_total(redis_client, key_prefix, RECORDERS) == 0, "PEL empty")
        assert all(worker.alive for worker in others), "the other workers never stopped"
    results = {h: verdict(redis_client, key_prefix, h, count) for h in RECORDERS}
    report("sigkill", results, kills=kills, events=count, workers=3)
    assert kills >= 4, "the victim was killed mid-work at least 4 times"
    for result in results.values():
        assert result["lost"] == 0 and result["unexpected"] == 0
        assert result["duplicates"] <= kills * 2 * 20, "at most one read batch per kill"
    assert StreamsDeadLetterStore(redis_client, StreamKeys(key_prefix)).count() == 0


def test_survivors_claim_the_pending_entries_of_a_worker_killed_for_good(
    redis_client: Any, real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    count = 300
    publisher = Publisher(redis_client, real_redis.url, key_prefix, ("recorder",))
    env = worker_env(real_redis.url, key_prefix, ["recorder"], EVENTBUS_BATCH_SIZE=50)
    for n in range(count):
        publisher.publish(n, sleep_ms=5)
    doomed = WorkerProcess("doomed", env, tmp_path)
    stream = f"{key_prefix}:stream:patient.created"

    def doomed_pending() -> int:
        rows = redis_client.xpending(stream, "recorder.on_created")["consumers"]
        return sum(int(r["pending"]) for r in rows if r["name"] == b"doomed:0")

    with workers(doomed):
        wait_until(lambda: doomed_pending() >= 20, "the doomed worker holds pending entries")
        held = doomed_pending()
        doomed.signal(signal.SIGKILL)
        doomed.wait(30)
    survivors = [WorkerProcess(f"s{i}", env, tmp_path) for i in range(2)]
    with workers(*survivors):
        wait_until(
            lambda: all_handled(redis_client, key_prefix, count, RECORDERS),
            "every event handled by both handlers",
        )
        wait_until(lambda: doomed_pending() == 0, "the survivors claimed every pending entry")
        wait_until(
            lambda: (
                b"doomed:0"
                not in {
                    c["name"] for c in redis_client.xinfo_consumers(stream, "recorder.on_created")
                }
            ),
            "the dead consumer, with nothing pending, is deleted",
        )
    results = {h: verdict(redis_client, key_prefix, h, count) for h in RECORDERS}
    report("killed-for-good", results, held_pending_at_kill=held)
    assert all(r["lost"] == 0 for r in results.values())


def test_raising_and_process_killing_handlers_are_dead_lettered_after_max_deliveries(
    redis_client: Any, real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    modules = ("recorder", "poison")
    publisher = Publisher(redis_client, real_redis.url, key_prefix, modules)
    env = worker_env(real_redis.url, key_prefix, list(modules), EVENTBUS_MAX_DELIVERIES=5)
    steady = WorkerProcess(
        "steady", env, tmp_path, ["--handler", "recorder.*", "--handler", "poison.always_raises"]
    )
    crashy = WorkerProcess("crashy", env, tmp_path, ["--handler", "poison.kills_process"])
    good = 200
    with workers(steady, crashy):
        for n in range(good):
            publisher.publish(n)
            publisher.publish(n, "patient.updated")
            if n == good // 2:
                publisher.publish(good, mode="raise")
                publisher.publish(good, "patient.updated", mode="kill")
        store = StreamsDeadLetterStore(redis_client, StreamKeys(key_prefix))
        deadline = time.monotonic() + 120
        while store.count() < 2 and time.monotonic() < deadline:
            if not crashy.alive:
                crashy.start()  # a supervisor restarts the crashed worker
            time.sleep(0.1)
        assert steady.alive and steady.starts == 1
        wait_until(
            lambda: (
                all_handled(
                    redis_client, key_prefix, good, ("poison.kills_process", "poison.always_raises")
                )
                and all_handled(redis_client, key_prefix, good + 1, RECORDERS)
            ),
            "every other event is handled by every handler",
        )
    letters = {letter.handler_id: letter for letter in store.list()}
    assert set(letters) == {"poison.always_raises", "poison.kills_process"}
    raised, killed = letters["poison.always_raises"], letters["poison.kills_process"]
    attempts = {
        h: int(redis_client.get(f"{key_prefix}:attempts:{h}") or 0)
        for h in ("poison.always_raises", "poison.kills_process")
    }
    report("poison", {}, attempts=attempts, crashy_starts=crashy.starts)
    assert (raised.deliveries, raised.error_class) == (5, "RuntimeError")
    assert (killed.deliveries, killed.error_class) == (5, "DeliveryLimitExceeded")
    assert attempts == {"poison.always_raises": 5, "poison.kills_process": 5}
    assert raised.envelope is not None and raised.envelope.payload["mode"] == "raise"
    assert len(handled(redis_client, key_prefix, "poison.always_raises")) == good


def _malformed(n: int) -> dict[str, Any]:
    good = envelope("patient.created", n=n).to_fields()
    kind = n % 5
    if kind == 0:
        del good["id"]
    elif kind == 1:
        good["payload"] = "{not json"
    elif kind == 2:
        good["payload"] = "[1, 2]"
    elif kind == 3:
        good["type"] = "patient.exploded"
    else:
        return {**good, "payload": b"\xff\xfe not utf-8"}
    return good


def test_malformed_entries_are_dead_lettered_and_the_worker_keeps_going(
    redis_client: Any, real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    publisher = Publisher(redis_client, real_redis.url, key_prefix, ("recorder",))
    env = worker_env(real_redis.url, key_prefix, ["recorder"])
    stream = f"{key_prefix}:stream:patient.created"
    worker = WorkerProcess("w", env, tmp_path)
    good = 400
    with workers(worker):
        for n in range(good):
            publisher.publish(n)
            if n % 4 == 0:
                redis_client.xadd(stream, _malformed(n // 4))
        wait_until(
            lambda: all_handled(redis_client, key_prefix, good, RECORDERS),
            "every good event handled",
        )
        store = StreamsDeadLetterStore(redis_client, StreamKeys(key_prefix))
        wait_until(lambda: store.count() == 200, "100 malformed entries dead-lettered per group")
        assert worker.alive and worker.starts == 1, worker.output()
    letters = store.list(1000)
    assert all(letter.reason and letter.error_class for letter in letters)
    by_class: dict[str, int] = {}
    for letter in letters:
        by_class[letter.error_class] = by_class.get(letter.error_class, 0) + 1
    report("malformed", {}, dead_letters_by_class=by_class)
    assert by_class == {"MalformedEnvelopeError": 160, "UnroutableEntry": 40}
    assert pending_total(redis_client, key_prefix, RECORDERS) == 0


def test_client_kill_under_load_reconnects_and_loses_nothing(
    redis_client: Any, real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    count = 2000
    publisher = Publisher(redis_client, real_redis.url, key_prefix, ("recorder",))
    env = worker_env(real_redis.url, key_prefix, ["recorder"])
    pair = [WorkerProcess(f"w{i}", env, tmp_path) for i in range(2)]
    killed = 0
    with workers(*pair):
        feeding = publisher.paced(count, per_second=800)
        for _ in range(10):
            time.sleep(0.3)
            for client in redis_client.client_list():
                if client.get("name", "").startswith(f"{key_prefix}:worker:"):
                    killed += int(redis_client.client_kill_filter(_id=client["id"]))
        feeding.join(60)
        wait_until(
            lambda: all_handled(redis_client, key_prefix, count, RECORDERS),
            "every event handled after the connection kills",
        )
        wait_until(lambda: pending_total(redis_client, key_prefix, RECORDERS) == 0, "PEL empty")
        assert all(worker.alive and worker.starts == 1 for worker in pair)
    results = {h: verdict(redis_client, key_prefix, h, count) for h in RECORDERS}
    report("client-kill", results, connections_killed=killed)
    assert killed >= 5, "connections were killed while the workers ran"
    assert all(r["lost"] == 0 for r in results.values())


def test_sigterm_under_load_finishes_in_flight_work(
    redis_client: Any, real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    count = 400
    publisher = Publisher(redis_client, real_redis.url, key_prefix, ("recorder",))
    env = worker_env(real_redis.url, key_prefix, ["recorder"])
    for n in range(count):
        publisher.publish(n, sleep_ms=10)
    worker = WorkerProcess("w", env, tmp_path, ["--concurrency", "2"])
    with workers(worker):
        wait_until(lambda: int(redis_client.get(f"{key_prefix}:started") or 0) >= 20, "busy")
        worker.signal(signal.SIGTERM)
        assert worker.wait(60) == 0, worker.output()
    started = int(redis_client.get(f"{key_prefix}:started") or 0)
    finished = int(redis_client.get(f"{key_prefix}:finished") or 0)
    assert started == finished, "every handler that started finished before the exit"
    assert 0 < finished < 2 * count, "it stopped under load"
    drain = WorkerProcess("w", env, tmp_path, ["--concurrency", "2", "--burst"])
    with workers(drain):
        assert drain.wait(120) == 0, drain.output()
    results = {h: verdict(redis_client, key_prefix, h, count) for h in RECORDERS}
    report("sigterm", results, finished_before_exit=finished)
    assert all(r["lost"] == 0 for r in results.values())
    assert pending_total(redis_client, key_prefix, RECORDERS) == 0
