"""A worker tree killed right after Redis handed it a job: the job still runs, within the bound.

Two ``rq worker`` processes (the README's command, quick recovery class, 1 s intervals) wait
idle in ``BLMOVE``. The test freezes both trees (``SIGSTOP``), publishes one job: Redis
completes a frozen worker's ``BLMOVE``, so the job sits on the queue's intermediate list,
QUEUED, taken by a process that will never run it. A third worker is started, then both
frozen trees are killed. RQ alone would fail the job a minute after maintenance first saw it; the
bus's worker retries it once its claim has lapsed (``recovery.recover_unstarted_jobs``), so
it is handled, and the seconds from the kill are printed against ``J + G + R + 2 × M`` (here
1 + 1 + 1 + 2 = 5 s; no time is asserted). If no frozen worker was blocked when the job came
(each re-issues its wait every second), the trees are thawed and the test tries again.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from rq.utils import utcparse

from app.core.events import EventType
from tests.support.processes import end, freeze_tree, start_in_session, thaw
from tests.support.redis_server import RedisServer
from tests.support.rq_workers import REPO_ROOT, app_environment, rq_worker_command
from tests.transports.rq_queue.conftest import Publisher
from tests.transports.rq_queue.whereabouts import describe

pytestmark = [pytest.mark.redis, pytest.mark.slow]

TRIES = 10
WAIT_S = 120.0


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:  # each tree this test started, by pid
        end(process)


def test_a_job_taken_by_a_worker_killed_before_running_it_runs(
    make_publisher: Any,
    real_redis: RedisServer,
    key_prefix: str,
    tmp_path: Path,
    workers: list[subprocess.Popen[bytes]],
) -> None:
    publisher: Publisher = make_publisher(
        EVENTBUS_RQ_RETRY_INTERVALS=[1], EVENTBUS_MAX_DELIVERIES=3
    )
    publisher.bus.subscribe(
        EventType.PATIENT_CREATED, lambda p: None, handler_id="rqkill.slow_record"
    )
    env = app_environment(
        real_redis.url,
        key_prefix,
        tmp_path / "take.db",
        MODULES_PACKAGE="tests.transports.rq_queue.kill_modules",
        EVENTBUS_VALIDATE_PAYLOADS=False,
    )
    queue = publisher.settings.queue_names()[0]
    intermediate = f"rq:queue:{queue}:intermediate"
    client: Any = redis.Redis.from_url(real_redis.url)
    log = tmp_path / "workers.log"

    def start(n: int) -> subprocess.Popen[bytes]:
        command = rq_worker_command(
            real_redis.url,
            [queue],
            burst=False,
            worker_class="tests.transports.rq_queue.quick_recovery.QuickRecoveryWorker",
            extra=[
                "--name",
                f"{key_prefix}-t{n}",
                "--maintenance-interval",
                "1",
                "--job-monitoring-interval",
                "1",
            ],
        )
        with log.open("ab") as output:
            process = start_in_session(command, env, cwd=REPO_ROOT, output=output)
        workers.append(process)
        return process

    def handled(n: int) -> bool:
        records = client.lrange(f"{key_prefix}:sample:slow_record", 0, -1)
        return n in {json.loads(r)["payload"]["n"] for r in records}

    def wait_for(n: int) -> None:
        deadline = time.monotonic() + WAIT_S
        while not handled(n):
            assert time.monotonic() < deadline, f"job n={n} not handled within {WAIT_S}s"
            time.sleep(0.05)

    pair = [start(0), start(1)]
    publisher.bus.publish(EventType.PATIENT_CREATED, {"n": -1})
    wait_for(-1)  # both are up and listening
    for attempt in range(TRIES):
        time.sleep(1.5)  # idle: back in BLMOVE
        frozen = [p for process in pair for p in freeze_tree(process.pid)]
        publisher.bus.publish(EventType.PATIENT_CREATED, {"n": attempt})
        time.sleep(0.5)
        taken = client.lrange(intermediate, 0, -1)
        if taken:
            break
        thaw(frozen)  # nobody was waiting at that instant: let them run it, try again
        wait_for(attempt)
    else:
        pytest.fail(f"no frozen worker took a job in {TRIES} tries")
    [job_id] = [raw.decode() for raw in taken]
    start(2)  # the survivor: up before the kill, as a queue's other workers would be
    deadline = time.monotonic() + WAIT_S
    while not client.exists(f"rq:worker:{key_prefix}-t2"):
        assert time.monotonic() < deadline, "the third worker never started"
        time.sleep(0.05)
    for process in pair:
        end(process)
    killed_at = time.time()
    assert not handled(attempt) and client.hget(f"rq:job:{job_id}", "status") == b"queued"
    while not handled(attempt):
        assert time.monotonic() < deadline, describe(client, queue, [job_id])
        time.sleep(0.05)
    enqueued = client.hget(f"rq:job:{job_id}", "enqueued_at").decode()
    back_s = _timestamp(enqueued) - killed_at
    recovered = log.read_text(errors="replace").count("stopped before starting it")
    print(
        f"taken by a frozen worker on try {attempt + 1}, killed: back in the queue after "
        f"{back_s:.1f} s, handled after {time.time() - killed_at:.1f} s (bound 5 s); "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    assert recovered == 1, "the bus worker's maintenance recovered it"


def _timestamp(text: str) -> float:
    return utcparse(text).timestamp()
