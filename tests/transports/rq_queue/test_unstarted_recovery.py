"""A job its worker took but never started (worker and horse killed in between) comes back.

RQ marks a job STARTED only in the work horse. A worker killed after ``BLMOVE`` (the job on
the queue's intermediate list) or after preparing the execution (a started-registry entry)
but before its horse ran leaves the job QUEUED: RQ's abandoned-job handling skips it and
drops its entry, and RQ's intermediate-list rule fails it a minute after maintenance first
saw it. These states are written here as such a kill leaves them (real Redis, the bus's
worker's maintenance called directly): the bus's worker retries or fails the job once its
claim lapsed; RQ's own worker, in the same time, leaves it where it is.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rq.job import JobStatus
from rq.queue import Queue
from rq.serializers import JSONSerializer
from rq.worker import Worker

from app.core.events import EventType
from tests.transports.rq_queue.conftest import Publisher
from tests.transports.rq_queue.quick_recovery import QuickRecoveryWorker
from transports.rq_queue import BusJob, RQDeadLetterStore
from transports.rq_queue.recovery import UNSTARTED_REASON

pytestmark = [pytest.mark.redis]

HANDLER = "rqkill.slow_record"


def _taken_job(make_publisher: Callable[..., Publisher], deliveries: int) -> tuple[Any, str]:
    """Publish one job and move it onto the intermediate list, as a worker's ``BLMOVE`` does."""
    publisher = make_publisher(EVENTBUS_RQ_RETRY_INTERVALS=[1], EVENTBUS_MAX_DELIVERIES=deliveries)
    publisher.bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id=HANDLER)
    publisher.bus.publish(EventType.PATIENT_CREATED, {"n": 1})
    queue = Queue(
        publisher.settings.queue_names()[0],
        connection=publisher.client,
        job_class=BusJob,
        serializer=JSONSerializer,
    )
    [job_id] = queue.get_job_ids()
    assert publisher.client.lmove(queue.key, queue.intermediate_queue_key) == job_id.encode()
    return queue, job_id


def _maintenance(queue: Any, key_prefix: str, worker_class: type[Worker]) -> Any:
    return worker_class(
        [queue.name],
        connection=queue.connection,
        name=f"{key_prefix}-maintenance-{uuid.uuid4().hex[:6]}",
        job_monitoring_interval=1,
        maintenance_interval=1,
    )


def _place(queue: Any, job_id: str) -> str:
    """Where the job is: ``intermediate``, ``scheduled``, ``failed`` or ``queue``."""
    client = queue.connection
    if client.lpos(queue.intermediate_queue_key, job_id) is not None:
        return "intermediate"
    for place in ("scheduled", "failed"):
        if client.zscore(f"rq:{place}:{queue.name}", job_id) is not None:
            return place
    return "queue" if client.lpos(queue.key, job_id) is not None else "nowhere"


def test_a_job_taken_by_a_worker_killed_before_its_execution_is_retried(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    queue, job_id = _taken_job(make_publisher, deliveries=3)
    bus_worker = _maintenance(queue, key_prefix, QuickRecoveryWorker)
    rq_worker = _maintenance(queue, key_prefix, Worker)
    bus_worker.clean_registries()  # first sighting: a live worker may be about to claim it
    assert _place(queue, job_id) == "intermediate"
    time.sleep(bus_worker.unstarted_grace + 0.5)
    rq_worker.clean_registries()
    assert _place(queue, job_id) == "intermediate", "RQ alone waits a minute"
    bus_worker.clean_registries()
    job = BusJob.fetch(job_id, connection=queue.connection, serializer=JSONSerializer)
    assert (_place(queue, job_id), job.get_status(), job.retries_left) == (
        "scheduled",
        JobStatus.SCHEDULED,
        1,
    )


def test_a_job_whose_worker_died_after_preparing_its_execution_is_retried_at_once(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    queue, job_id = _taken_job(make_publisher, deliveries=3)
    lapsed = time.time() - 1  # the execution's heartbeat expired: its worker stopped beating
    queue.connection.zadd(queue.started_job_registry.key, {f"{job_id}:{uuid.uuid4().hex}": lapsed})
    rq_worker = _maintenance(queue, key_prefix, Worker)
    rq_worker.clean_registries()
    assert _place(queue, job_id) == "intermediate", "RQ drops the entry, leaves the job"
    queue.connection.zadd(queue.started_job_registry.key, {f"{job_id}:{uuid.uuid4().hex}": lapsed})
    _maintenance(queue, key_prefix, QuickRecoveryWorker).clean_registries()
    assert _place(queue, job_id) == "scheduled"
    assert queue.connection.zcard(queue.started_job_registry.key) == 0


def test_a_job_a_several_queue_worker_took_and_prepared_is_retried(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    """Workers of several queues take jobs with BLPOP: no intermediate list, only the entry."""
    queue, job_id = _taken_job(make_publisher, deliveries=3)
    queue.connection.lrem(queue.intermediate_queue_key, 0, job_id)
    lapsed = time.time() - 1
    entry = f"{job_id}:{uuid.uuid4().hex}"
    queue.connection.zadd(queue.started_job_registry.key, {entry: lapsed})
    _maintenance(queue, key_prefix, Worker).clean_registries()
    assert _place(queue, job_id) == "nowhere", "RQ drops the entry: the job is lost"
    queue.connection.zadd(queue.started_job_registry.key, {entry: lapsed})
    _maintenance(queue, key_prefix, QuickRecoveryWorker).clean_registries()
    assert _place(queue, job_id) == "scheduled"


def test_a_live_claim_is_left_alone(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    queue, job_id = _taken_job(make_publisher, deliveries=3)
    beating = time.time() + 60  # a live worker's execution, heartbeat in the future
    queue.connection.zadd(queue.started_job_registry.key, {f"{job_id}:{uuid.uuid4().hex}": beating})
    worker = _maintenance(queue, key_prefix, QuickRecoveryWorker)
    worker.clean_registries()
    time.sleep(worker.unstarted_grace + 0.5)
    worker.clean_registries()
    job = BusJob.fetch(job_id, connection=queue.connection, serializer=JSONSerializer)
    assert (_place(queue, job_id), job.get_status()) == ("intermediate", JobStatus.QUEUED)


def test_a_later_enqueue_of_the_same_job_starts_its_grace_afresh(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    queue, job_id = _taken_job(make_publisher, deliveries=3)
    worker = _maintenance(queue, key_prefix, QuickRecoveryWorker)
    worker.clean_registries()  # seen unclaimed during one attempt...
    queue.connection.hset(BusJob.key_for(job_id), "enqueued_at", "2031-01-01T00:00:00.000000Z")
    time.sleep(worker.unstarted_grace + 0.5)
    worker.clean_registries()  # ...then enqueued again: a new first sighting
    assert _place(queue, job_id) == "intermediate"


def test_on_its_last_attempt_it_is_failed_visibly(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    queue, job_id = _taken_job(make_publisher, deliveries=1)
    lapsed = time.time() - 1
    queue.connection.zadd(queue.started_job_registry.key, {f"{job_id}:{uuid.uuid4().hex}": lapsed})
    _maintenance(queue, key_prefix, QuickRecoveryWorker).clean_registries()
    assert _place(queue, job_id) == "failed"
    settings = make_publisher().settings
    [letter] = RQDeadLetterStore(settings, queue.connection).list()
    assert (letter.id, letter.error_class, letter.handler_id) == (
        job_id,
        "AbandonedJobError",
        HANDLER,
    )
    assert UNSTARTED_REASON.split(": ", 1)[1] in letter.reason
