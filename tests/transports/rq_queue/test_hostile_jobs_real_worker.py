"""Hostile bus job hashes against a real forking ``rq worker``: failed visibly, worker unhurt.

One ``rq worker`` process runs the line ``flask events rq-command`` prints (the README's
command: ``BusWorker``, ``BusJob``, JSON, the scheduler). Hypothesis (bounded examples, no
shrinking: each example costs real forks) writes batches of job hashes no bus worker may run
(``hostile_jobs.refused_job``: garbage ``created_at``/``status``/``timeout``, missing or
hostile ``data``, deep JSON nesting, lone surrogates, huge values) onto the bus queue under the
test's prefix, then publishes one good event. Each batch: the good job is handled, each bad
job ends in RQ's failed registry, the worker is the same process, still running. At the end,
``flask events dlq list`` lists every bad job with a reason. A job not settled in time fails
the test with where it sits and what its work horse is doing (a hang, not a slow machine,
is what the bounded wait is for).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rq.job import Job

from app.core.events import EventType
from tests.support.processes import start_in_session, stop_tree
from tests.support.rq_workers import BIN, REPO_ROOT, flask_command, run_worker
from tests.transports.rq_queue.conftest import SAMPLE_HANDLERS, Publisher
from tests.transports.rq_queue.hostile_jobs import good_job_hash, refused_job
from tests.transports.rq_queue.whereabouts import describe
from transports.rq_queue import RQDeadLetterStore

pytestmark = [pytest.mark.redis, pytest.mark.slow]

HANDLER = "rqsample.on_patient_created"
SETTLE_S = 90.0  # a hung horse shows here (the good jobs' timeout is 20 s; RQ kills at +60)


@pytest.fixture
def readme_worker(sample_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``rq worker`` as ``flask events rq-command`` prints it for the sample app."""
    printed = run_worker(flask_command("events", "rq-command"), sample_env)
    assert printed.returncode == 0, printed.stdout
    argv = shlex.split(printed.stdout.replace("\\\n", " "))
    assert argv[:2] == ["rq", "worker"], argv
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = start_in_session(
            [str(BIN / "rq"), *argv[1:]], sample_env, cwd=REPO_ROOT, output=output
        )
    try:
        yield process
    finally:
        stop_tree(process)


def test_hostile_job_hashes_fail_visibly_on_a_real_worker(
    make_publisher: Callable[..., Publisher],
    readme_worker: subprocess.Popen[bytes],
    key_prefix: str,
    sample_env: dict[str, str],
    tmp_path: Path,
) -> None:
    publisher = make_publisher(
        EVENTBUS_RQ_RETRY_INTERVALS=[0], EVENTBUS_MAX_DELIVERIES=3, EVENTBUS_RQ_JOB_TIMEOUT=20
    )
    publisher.bus.subscribe(SAMPLE_HANDLERS[HANDLER], lambda p: None, handler_id=HANDLER)
    client: Any = publisher.client
    queue = publisher.settings.queue_names()[0]
    queue_key = f"rq:queue:{queue}"
    records = f"{key_prefix}:sample:on_patient_created"
    pid = readme_worker.pid
    bad: list[str] = []
    batches = [0]

    @settings(
        max_examples=30,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(batch=st.lists(refused_job(HANDLER), min_size=1, max_size=3))
    def one_batch(batch: list[dict[str, Any]]) -> None:
        number = batches[0]
        batches[0] += 1
        ids = []
        for index, changes in enumerate(batch):
            job_id = f"{key_prefix}-bad{number}x{index}"
            fields = {**good_job_hash(publisher.transport, job_id, queue, HANDLER), **changes}
            fields.pop("__delete__", None)
            fields.pop(changes.get("__delete__") or "", None)
            client.hset(Job.key_for(job_id), mapping=fields)
            client.rpush(queue_key, job_id)
            ids.append(job_id)
        publisher.bus.publish(EventType.PATIENT_CREATED, {"n": number})
        deadline = time.monotonic() + SETTLE_S

        def settled() -> bool:
            handled = {json.loads(r)["payload"].get("n") for r in client.lrange(records, 0, -1)}
            failed = all(client.zscore(f"rq:failed:{queue}", i) is not None for i in ids)
            return number in handled and failed

        while not settled():
            assert readme_worker.poll() is None, f"the worker exited ({readme_worker.returncode})"
            assert time.monotonic() < deadline, _unsettled(client, queue, ids, batch, pid)
            time.sleep(0.05)
        assert readme_worker.poll() is None and psutil.Process(pid).is_running()
        bad.extend(ids)

    one_batch()
    listing = run_worker(
        flask_command("events", "dlq", "list", "--json", "--limit", "1000"), sample_env
    )
    assert listing.returncode == 0, listing.stdout
    lines = [line for line in listing.stdout.splitlines() if line.startswith("{")]
    listed = {entry["id"]: entry for entry in map(json.loads, lines)}
    store = RQDeadLetterStore(publisher.settings, client)
    for job_id in bad:
        assert job_id in listed, f"{job_id} not listed by flask events dlq list"
        assert listed[job_id]["error_class"], listed[job_id]
        assert store.get(job_id).reason, job_id
    assert readme_worker.poll() is None, "the same worker ran every batch"
    print(
        f"{batches[0]} batches, {len(bad)} hostile jobs failed visibly, worker pid {pid} throughout"
    )


def _unsettled(client: Any, queue: str, ids: list[str], batch: list[Any], pid: int) -> str:
    """Where the batch's jobs sit, and the worker's children (a hung work horse) as seen now."""
    children = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            wchan = Path(f"/proc/{child.pid}/wchan").read_text()
            children.append(
                f"{child.pid} {child.status()} wchan={wchan} threads={child.num_threads()}"
            )
        except (OSError, psutil.Error):
            continue
    kinds = [sorted(k for k in changes if k != "data") or ["data"] for changes in batch]
    return (
        f"batch not settled within {SETTLE_S}s (changed fields {kinds})\n"
        f"worker {pid} children: {children}\n{describe(client, queue, ids)}"
    )
