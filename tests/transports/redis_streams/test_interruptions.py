"""Interruption tests: worker SUBPROCESSES cut off from Redis, and stopped under load.

As in ``test_faults``: real Redis, a full verdict (none lost, pending lists empty), bounded
waits that fail with the workers' logs, and faults injected at observed points, never on a
timer: connections are killed once they provably exist and the workers are handling, and a
worker is signalled once its handlers provably run (the sample modules' gate).
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tests.support.redis_server import RedisServer
from tests.transports.redis_streams.load import (
    Publisher,
    all_handled,
    handled_by,
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

pytestmark = [pytest.mark.redis, pytest.mark.slow]
RECORDERS = ("recorder.on_created", "recorder.on_patient")


def _worker_connections(client: Any, prefix: str) -> dict[str, set[int]]:
    """Worker name -> ids of its open connections (named ``<prefix>:worker:<name>``)."""
    found: dict[str, set[int]] = {}
    head = f"{prefix}:worker:"
    for row in client.client_list():
        name = row.get("name", "")
        if name.startswith(head):
            found.setdefault(name[len(head) :], set()).add(int(row["id"]))
    return found


def test_client_kill_under_load_reconnects_and_loses_nothing(
    redis_client: Any, real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    count, rounds = 2000, 5
    publisher = Publisher(redis_client, real_redis.url, key_prefix, ("recorder",))
    env = worker_env(real_redis.url, key_prefix, ["recorder"])
    pair = [WorkerProcess(f"w{i}", env, tmp_path) for i in range(2)]
    names = {worker.name for worker in pair}
    killed: set[int] = set()

    def reconnected_and_working(progress: dict[str, int]) -> bool:
        open_now = _worker_connections(redis_client, key_prefix)
        return all(
            open_now.get(name, set()) - killed
            and handled_by(redis_client, key_prefix, name) > progress[name]
            for name in names
        )

    with (
        workers(*pair),
        publisher.paced(count, per_second=1000, until_finished=True) as feeding,
    ):
        progress = dict.fromkeys(names, 0)
        for kill in range(1, rounds + 1):
            wait_until(
                lambda progress=progress: reconnected_and_working(progress),  # type: ignore[misc]
                f"round {kill}: both workers connected and handling",
                diagnose=describe(*pair),
            )
            for ids in _worker_connections(redis_client, key_prefix).values():
                for client_id in ids:
                    if redis_client.client_kill_filter(_id=client_id):
                        killed.add(client_id)
            progress = {name: handled_by(redis_client, key_prefix, name) for name in names}
        wait_until(
            lambda: reconnected_and_working(progress),
            "both workers reconnected after the last kill",
            diagnose=describe(*pair),
        )
        published = feeding.finish()
        wait_until(
            lambda: all_handled(redis_client, key_prefix, published, RECORDERS),
            "every event handled after the connection kills",
            diagnose=describe(*pair),
        )
        wait_until(lambda: pending_total(redis_client, key_prefix, RECORDERS) == 0, "PEL empty")
        assert all(worker.alive and worker.starts == 1 for worker in pair), describe(*pair)()
    results = {h: verdict(redis_client, key_prefix, h, published) for h in RECORDERS}
    report("client-kill", results, connections_killed=len(killed), rounds=rounds)
    assert len(killed) >= rounds * len(pair), "every round killed each worker's connections"
    assert all(r["lost"] == 0 for r in results.values())


def test_sigterm_under_load_finishes_in_flight_work(
    redis_client: Any, real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    count, gate = 400, 20
    publisher = Publisher(redis_client, real_redis.url, key_prefix, ("recorder",))
    env = worker_env(real_redis.url, key_prefix, ["recorder"])
    for n in range(count):
        publisher.publish(n, sleep_ms=2)
    # after 20 handler starts, every handler that starts waits for the gate: in flight
    gated = {
        **worker_env(real_redis.url, key_prefix, ["recorder"], LOG_LEVEL="INFO"),
        "SAMPLE_GATE_AFTER": str(gate),
    }
    worker = WorkerProcess("w", gated, tmp_path, ["--concurrency", "2"])

    def counter(name: str) -> int:
        return int(redis_client.get(f"{key_prefix}:{name}") or 0)

    with workers(worker):
        wait_until(
            lambda: counter("started") > gate, "a handler in flight", diagnose=describe(worker)
        )
        worker.signal(signal.SIGTERM)
        wait_until(
            lambda: "worker.stopping" in worker.output(), "SIGTERM seen", diagnose=describe(worker)
        )
        in_flight = counter("started") - counter("finished")
        redis_client.set(f"{key_prefix}:gate-open", 1)
        assert worker.wait(60) == 0, worker.describe()
    started, finished = counter("started"), counter("finished")
    assert in_flight > 0, "handlers were running when SIGTERM arrived"
    assert started == finished, "every handler that started finished before the exit"
    assert finished <= gate + 4 < 2 * count, "no new handler started after SIGTERM"
    drain = WorkerProcess("w", env, tmp_path, ["--concurrency", "2", "--burst"])
    with workers(drain):
        assert drain.wait(120) == 0, drain.describe()
    results = {h: verdict(redis_client, key_prefix, h, count) for h in RECORDERS}
    report("sigterm", results, finished_before_exit=finished, in_flight_at_sigterm=in_flight)
    assert all(r["lost"] == 0 for r in results.values())
    assert pending_total(redis_client, key_prefix, RECORDERS) == 0


def test_a_stopping_worker_exits_after_its_stop_timeout_or_at_once_on_a_second_signal(
    redis_client: Any, real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    prefixes = {"patient": f"{key_prefix}:a", "impatient": f"{key_prefix}:b"}
    processes = {}
    for name, prefix in prefixes.items():
        publisher = Publisher(redis_client, real_redis.url, prefix, ("recorder",))
        for n in range(5):
            publisher.publish(n, sleep_ms=1)
        env = worker_env(real_redis.url, prefix, ["recorder"], LOG_LEVEL="INFO")
        timeout = "1" if name == "patient" else "600"
        processes[name] = WorkerProcess(
            name, {**env, "SAMPLE_GATE_AFTER": "0"}, tmp_path, ["--stop-timeout", timeout]
        )  # every handler waits for a gate that never opens: it hangs
    patient, impatient = processes["patient"], processes["impatient"]

    def counter(name: str, key: str) -> int:
        return int(redis_client.get(f"{prefixes[name]}:{key}") or 0)

    with workers(patient, impatient):
        for name, process in processes.items():
            wait_until(
                lambda name=name: counter(name, "started") > 0,  # type: ignore[misc]
                f"{name}: a handler is running",
                diagnose=describe(process),
            )
            process.signal(signal.SIGINT)
        wait_until(
            lambda: "worker.stopping" in impatient.output(),
            "the first SIGINT seen",
            diagnose=describe(impatient),
        )
        impatient.signal(signal.SIGINT)  # the second one: exit now, whatever still runs
        assert impatient.wait(60) == 1, impatient.describe()
        assert patient.wait(60) == 1, patient.describe()
    assert "thread(s) still running 1 s after the stop" in patient.output(), patient.describe()
    assert counter("patient", "finished") == counter("impatient", "finished") == 0
