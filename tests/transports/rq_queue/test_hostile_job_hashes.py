"""The bus's RQ classes trust nothing in a job hash (property-based, RQ's own worker code on
fakeredis): a corrupt or hostile bus job is failed visibly with its reason or, where the
garbage is harmless to RQ, simply runs; it is never left in RQ's intermediate list; the good
jobs between them all run; and the worker's loop never stops on them (``work()`` returns,
never raises ``RQWorkerStoppedError``). ``test_kill_recovery.py`` runs real ``rq worker``
processes; this fuzz stays in-process so it can try many hashes quickly.
"""

from __future__ import annotations

from typing import Any

import fakeredis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rq.job import Job
from rq.queue import Queue
from rq.registry import FailedJobRegistry

from app.core.events import EventBus, EventType, Router
from tests.transports.rq_queue.hostile_jobs import good_job_hash, hostile_job
from transports.rq_queue import RQDeadLetterStore, RQSettings, RQTransport, installed
from transports.rq_queue.worker import BusSimpleWorker

HANDLER = "t.ok"
PREFIX = "fuzz-rq"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(batch=st.lists(hostile_job(HANDLER), min_size=1, max_size=4))
# Found by the fuzz: a forged repeat count made RQ re-enqueue the job after every success,
# so the burst worker never finished (59,671 runs before the run was stopped).
@example(batch=[{"repeats_left": str(2**63).encode()}])
@example(batch=[{"repeats_left": b"3", "repeat_intervals": b"[0]"}])
def test_hostile_job_hashes_are_failed_visibly_and_the_loop_goes_on(
    batch: list[dict[str, Any]],
) -> None:
    client = fakeredis.FakeRedis()
    config = {"EVENTBUS_KEY_PREFIX": PREFIX, "EVENTBUS_RQ_RETRY_INTERVALS": [0]}
    rq_settings = RQSettings.from_config(config)
    transport = RQTransport(rq_settings, client)
    bus = EventBus()
    bus.configure(
        router=Router("rq", {}, {"inprocess", "rq"}),
        transports={"rq": transport},
        raise_handler_errors=False,
        validate=False,
    )
    handled: list[Any] = []
    bus.subscribe(EventType.PATIENT_CREATED, handled.append, handler_id=HANDLER)
    queue_name = rq_settings.queue_names()[0]
    queue = Queue(queue_name, connection=client)
    hostile_ids = []
    for number, changes in enumerate(batch):
        bus.publish(EventType.PATIENT_CREATED, {"n": number})
        job_id = f"{PREFIX}-h{number}"
        deleted = changes.get("__delete__")
        fields = {**good_job_hash(transport, job_id, queue_name, HANDLER), **changes}
        fields.pop("__delete__", None)
        fields.pop(deleted or "", None)
        client.hset(Job.key_for(job_id), mapping=fields)  # type: ignore[arg-type]
        client.rpush(queue.key, job_id)
        hostile_ids.append(job_id)
    bus.publish(EventType.PATIENT_CREATED, {"n": "last"})
    with installed(bus):
        BusSimpleWorker([queue_name], connection=client, name=PREFIX).work(
            burst=True, logging_level="ERROR"
        )  # raises RQWorkerStoppedError if the loop stopped on an error
    good = [p for p in handled if p.get("n") in (*range(len(batch)), "last")]
    assert [p["n"] for p in good][-1] == "last" and len(good) >= len(batch) + 1
    failed = FailedJobRegistry(queue_name, connection=client)
    store = RQDeadLetterStore(rq_settings, client)
    for job_id, changes in zip(hostile_ids, batch, strict=True):
        assert client.lpos(queue.intermediate_queue_key, job_id) is None
        status = client.hget(Job.key_for(job_id), "status")
        if client.zscore(failed.key, job_id) is not None:
            letter = store.get(job_id)
            assert letter.reason and letter.error_class, letter
        elif status is None:  # ran, and RQ deleted it at once: a result TTL of 0
            assert changes.get("result_ttl") == b"0", (job_id, batch)
        else:
            assert status == b"finished", (job_id, status, batch)
    assert len(store.list(10_000)) == failed.count, "every failed job can be listed"
    transport.close()
