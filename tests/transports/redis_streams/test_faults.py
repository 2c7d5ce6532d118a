"""Fault tests: real Redis, worker SUBPROCESSES killed mid-handler, poisoned, fed garbage.

Each test checks the total-queue verdict after a full drain: every event handled at least
once by every handler (none lost), duplicates counted and reported, pending lists empty.
Timings are short (claim idle 1 s, backoff 20 ms) so each test takes seconds; every wait is
a bounded poll that fails naming what was not reached, with the workers' logs.

Faults are injected at points the test has observed, never on a timer: a worker is killed
once one of its handlers provably runs (the sample modules' hold and gate, see
``sample_modules``), so each test always performs the faults it counts, however slow the
machine is. Connections cut and workers stopped: ``test_interruptions``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.redis_server import RedisServer
from tests.transports.redis_streams.harness import cleaning_client, envelope, fast_settings
from tests.transports.redis_streams.load import (
    Publisher,
    all_handled,
    handled,
    pending_total,
    report,
    verdict,
)
from tests.transports.redis_streams.processes import (
    WorkerProcess,
    describe,
    wait_until,
    worker_env,
    workers,
)
from transports.redis_streams import StreamKeys, StreamsDeadLetterStore

pytestmark = [pytest.mark.redis, pytest.mark.slow]
RECORDERS = ("recorder.on_created", "recorder.on_patient")


@pytest.fixture(params=["one-redis", "cluster"])
def target(request: pytest.FixtureRequest, key_prefix: str) -> Iterator[tuple[str, Any]]:
    """``(url, cleaning client)`` of one Redis, or of the 3-master cluster (hash-tagged keys)."""
    if request.param == "cluster":
        url = request.getfixturevalue("redis_cluster").url
    else:
        url = request.getfixturevalue("real_redis").url
    with cleaning_client(url, key_prefix) as client:
        yield url, client


def test_sigkill_mid_handler_and_restart_loses_nothing(
    target: tuple[str, Any], key_prefix: str, tmp_path: Path
) -> None:
    count, kills = 3000, 4
    url, redis_client = target
    publisher = Publisher(redis_client, url, key_prefix, ("recorder",))
    env = worker_env(url, key_prefix, ["recorder"])
    victim = WorkerProcess("w0", {**env, "SAMPLE_ARMABLE": "1"}, tmp_path)
    others = [WorkerProcess(f"w{i}", env, tmp_path) for i in (1, 2)]
    everyone = describe(victim, *others)
    holding = f"{key_prefix}:holding:{victim.name}"
    with (
        workers(victim, *others),
        publisher.paced(count, per_second=600, until_finished=True) as feeding,
    ):
        for kill in range(1, kills + 1):
            redis_client.set(f"{key_prefix}:arm:{victim.name}", 1)
            wait_until(
                lambda: bool(redis_client.exists(holding)),
                f"kill {kill}: the victim is inside a handler",
                diagnose=everyone,
            )
            victim.kill()
            redis_client.delete(holding)
            victim.start()
        published = feeding.finish()
        wait_until(
            lambda: all_handled(redis_client, key_prefix, published, RECORDERS),
            "every event handled by both handlers",
            diagnose=everyone,
        )
        wait_until(
            lambda: pending_total(redis_client, key_prefix, RECORDERS) == 0,
            "PEL empty",
            diagnose=everyone,
        )
        assert all(worker.alive for worker in others), everyone()
    results = {h: verdict(redis_client, key_prefix, h, published) for h in RECORDERS}
    held = redis_client.smembers(f"{key_prefix}:held")
    report("sigkill", results, kills=kills, held=len(held), events=published, workers=3)
    assert victim.starts == kills + 1 and len(held) == kills, "killed mid-handler each time"
    for result in results.values():
        assert result["lost"] == 0 and result["unexpected"] == 0
        assert result["duplicates"] <= kills * 2 * 20, "at most one read batch per kill"
    keys = fast_settings(key_prefix, url).keys
    assert StreamsDeadLetterStore(redis_client, keys).count() == 0


def test_survivors_claim_the_pending_entries_of_a_worker_killed_for_good(
    redis_client: Any, real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    count, gate = 300, 30
    publisher = Publisher(redis_client, real_redis.url, key_prefix, ("recorder",))
    env = worker_env(real_redis.url, key_prefix, ["recorder"], EVENTBUS_BATCH_SIZE=50)
    for n in range(count):
        publisher.publish(n, sleep_ms=2)
    # the doomed worker reads batches of 50 and blocks in its handler after the 30th start
    doomed = WorkerProcess("doomed", {**env, "SAMPLE_GATE_AFTER": str(gate)}, tmp_path)
    stream = f"{key_prefix}:stream:patient.created"

    def doomed_pending() -> int:
        rows = redis_client.xpending(stream, "recorder.on_created")["consumers"]
        return sum(int(r["pending"]) for r in rows if r["name"] == b"doomed:0")

    with workers(doomed):
        wait_until(
            lambda: int(redis_client.get(f"{key_prefix}:started") or 0) > gate,
            "the doomed worker is inside a handler",
            diagnose=describe(doomed),
        )
        held = doomed_pending()
        doomed.kill()
    assert held >= 20, "the doomed worker held pending entries when it was killed"
    survivors = [WorkerProcess(f"s{i}", env, tmp_path) for i in range(2)]
    with workers(*survivors):
        wait_until(
            lambda: all_handled(redis_client, key_prefix, count, RECORDERS),
            "every event handled by both handlers",
            diagnose=describe(*survivors),
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
            diagnose=describe(*survivors),
        )
    results = {h: verdict(redis_client, key_prefix, h, count) for h in RECORDERS}
    report("killed-for-good", results, held_pending_at_kill=held)
    assert all(r["lost"] == 0 for r in results.values())


def test_raising_and_process_killing_handlers_are_dead_lettered_after_max_deliveries(
    redis_client: Any, real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    modules = ("recorder", "poison")
    publisher = Publisher(redis_client, real_redis.url, key_prefix, modules)
    env = worker_env(real_redis.url, key_prefix, list(modules), EVENTBUS_MAX_DELIVERIES=3)
    steady = WorkerProcess(
        "steady", env, tmp_path, ["--handler", "recorder.*", "--handler", "poison.always_raises"]
    )
    crashy = WorkerProcess("crashy", env, tmp_path, ["--handler", "poison.kills_process"])
    good = 200

    def publish(numbers: range) -> None:
        for n in numbers:
            publisher.publish(n)
            publisher.publish(n, "patient.updated")
            if n == good // 2:
                publisher.publish(good, mode="raise")
                publisher.publish(good, "patient.updated", mode="kill")

    # Published before the workers start, the killer sits in the middle of a read batch:
    # the events handled before it in that batch must not be dead-lettered with it.
    publish(range(good // 2 + 10))
    store = StreamsDeadLetterStore(redis_client, StreamKeys(key_prefix))
    with workers(steady, crashy):
        publish(range(good // 2 + 10, good))  # and more flow while the poison is handled
        deadline = time.monotonic() + 120
        while store.count() < 2:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not reached within 120 s: both poison events dead-lettered\n"
                    f"{describe(steady, crashy)()}"
                )
            if not crashy.alive:
                crashy.start()  # a supervisor restarts the crashed worker
            time.sleep(0.05)
        assert steady.alive and steady.starts == 1, describe(steady)()
        wait_until(
            lambda: (
                all_handled(
                    redis_client, key_prefix, good, ("poison.kills_process", "poison.always_raises")
                )
                and all_handled(redis_client, key_prefix, good + 1, RECORDERS)
            ),
            "every other event is handled by every handler",
            diagnose=describe(steady, crashy),
        )
    letters = {letter.handler_id: letter for letter in store.list()}
    assert store.count() == 2, [(x.handler_id, x.error_class) for x in store.list()]
    assert set(letters) == {"poison.always_raises", "poison.kills_process"}
    raised, killed = letters["poison.always_raises"], letters["poison.kills_process"]
    attempts = {
        h: int(redis_client.get(f"{key_prefix}:attempts:{h}") or 0)
        for h in ("poison.always_raises", "poison.kills_process")
    }
    report("poison", {}, attempts=attempts, crashy_starts=crashy.starts)
    assert (raised.deliveries, raised.error_class) == (3, "RuntimeError")
    assert (killed.deliveries, killed.error_class) == (3, "DeliveryLimitExceeded")
    assert attempts == {"poison.always_raises": 3, "poison.kills_process": 3}
    assert crashy.starts == 4, "killed by each of its 3 deliveries, then dead-lettered it"
    assert raised.envelope is not None and raised.envelope.payload["mode"] == "raise"
    assert killed.envelope is not None and killed.envelope.payload["mode"] == "kill"
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
            diagnose=describe(worker),
        )
        store = StreamsDeadLetterStore(redis_client, StreamKeys(key_prefix))
        wait_until(
            lambda: store.count() == 200,
            "100 malformed entries dead-lettered per group",
            diagnose=describe(worker),
        )
        assert worker.alive and worker.starts == 1, worker.describe()
    letters = store.list(1000)
    assert all(letter.reason and letter.error_class for letter in letters)
    by_class: dict[str, int] = {}
    for letter in letters:
        by_class[letter.error_class] = by_class.get(letter.error_class, 0) + 1
    report("malformed", {}, dead_letters_by_class=by_class)
    assert by_class == {"MalformedEnvelopeError": 160, "UnroutableEntry": 40}
    assert pending_total(redis_client, key_prefix, RECORDERS) == 0
