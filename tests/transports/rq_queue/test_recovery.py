"""A worker SIGKILLed mid-job: RQ's abandoned-job handling brings the job back (or fails it
visibly); nothing is silently lost.

Worker A (``rq worker --burst``, no fork) takes a job whose handler stalls on its first
attempt; the test kills A by its pid once the handler has started. Worker B (``rq worker``
with a 1 s maintenance interval) then finds the job's heartbeat expired (job timeout 4 s +
1 s grace, see ``quick_recovery.py``) and retries it, or fails it when no retry is left.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable

import pytest
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer

from app.core.events import EventType
from tests.support.processes import end, stop_tree
from tests.support.redis_server import RedisServer
from tests.support.rq_workers import rq_worker_command, start_worker
from tests.transports.rq_queue.conftest import SAMPLE_HANDLERS, Publisher
from transports.rq_queue import RQDeadLetterStore

pytestmark = [pytest.mark.redis, pytest.mark.slow]

WORKER_CLASS = "tests.transports.rq_queue.quick_recovery.QuickRecoverySimpleWorker"
WAIT_S = 120.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {WAIT_S}s: {what}")
        time.sleep(0.02)


def stop(process: subprocess.Popen[str]) -> str:
    """End a worker this test started: SIGTERM (warm), then its whole tree, by pid."""
    stop_tree(process, grace_s=60)
    return process.communicate()[0]


@pytest.mark.parametrize(("deliveries", "outcome"), [(3, "runs again"), (1, "fails visibly")])
def test_a_job_of_a_killed_worker_comes_back(
    make_publisher: Callable[..., Publisher],
    sample_env: dict[str, str],
    real_redis: RedisServer,
    key_prefix: str,
    deliveries: int,
    outcome: str,
) -> None:
    publisher = make_publisher(
        EVENTBUS_MAX_DELIVERIES=deliveries,
        EVENTBUS_RQ_RETRY_INTERVALS=[0],
        EVENTBUS_RQ_JOB_TIMEOUT=4,
    )
    publisher.bus.subscribe(
        SAMPLE_HANDLERS["rqsample.stall_first"], lambda p: None, handler_id="rqsample.stall_first"
    )
    publisher.bus.publish(EventType.APPOINTMENT_CANCELLED, {"appointment_id": "a1"})
    client, queues = publisher.client, publisher.settings.queue_names()
    [job_id] = Queue(queues[0], connection=client).get_job_ids()

    worker_a = start_worker(
        rq_worker_command(
            real_redis.url, queues, worker_class=WORKER_CLASS, extra=["--name", f"{key_prefix}-a"]
        ),
        sample_env,
    )
    try:
        wait_for(lambda: client.exists(f"{key_prefix}:sample:stalled") == 1, "handler started")
        assert int(client.get(f"{key_prefix}:sample:stalled") or 0) == worker_a.pid
        end(worker_a)  # SIGKILL (its tree), mid-handler
    finally:
        stop(worker_a)
    killed_at = time.monotonic()
    job = Job.fetch(job_id, connection=client, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.STARTED
    assert job.id in StartedJobRegistry(queues[0], connection=client).get_job_ids(cleanup=False)

    worker_b = start_worker(
        rq_worker_command(
            real_redis.url,
            queues,
            worker_class=WORKER_CLASS,
            burst=False,
            extra=[
                "--name",
                f"{key_prefix}-b",
                "--maintenance-interval",
                "1",
                "--worker-ttl",
                "16",
            ],
        ),
        sample_env,
    )
    try:
        wait_for(
            lambda: job.get_status() in {JobStatus.FINISHED, JobStatus.FAILED},
            "the abandoned job is handled",
        )
    finally:
        output_b = stop(worker_b)
    recovered_s = time.monotonic() - killed_at
    print(f"{outcome}: job {job.id} handled {recovered_s:.1f}s after the kill")

    attempts = int(client.get(f"{key_prefix}:sample:attempts:stall_first") or 0)
    recorded = [json.loads(e) for e in client.lrange(f"{key_prefix}:sample:stall_first", 0, -1)]
    letters = RQDeadLetterStore(publisher.settings, client).list()
    if deliveries > 1:
        assert job.get_status() == JobStatus.FINISHED, output_b
        assert attempts == 2
        assert [e["payload"] for e in recorded] == [{"appointment_id": "a1"}]
        assert letters == ()
    else:
        assert job.get_status() == JobStatus.FAILED, output_b
        assert attempts == 1 and recorded == []
        [letter] = letters
        assert (letter.error_class, letter.deliveries) == ("AbandonedJobError", 1)
        assert letter.handler_id == "rqsample.stall_first"
