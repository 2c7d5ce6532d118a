"""The bus's RQ classes trust nothing in a job hash: a corrupt or hostile bus job is failed
visibly with its reason (never left in RQ's intermediate list), the good jobs between them
all run, and the one ``rq worker`` process (the README's command) serving the whole property
run never stops.
"""

from __future__ import annotations

import json
import subprocess
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rq.job import Job
from rq.queue import Queue
from rq.registry import FailedJobRegistry

from app.core.events import EventType
from app.core.events.envelope import Envelope, new_event_id
from tests.support.redis_server import RedisServer
from tests.support.rq_workers import rq_worker_command, start_worker
from tests.transports.rq_queue.conftest import Publisher
from transports.rq_queue import RQDeadLetterStore
from transports.rq_queue.dispatcher import DISPATCHER_NAME
from transports.rq_queue.transport import _envelope_json

pytestmark = [pytest.mark.redis, pytest.mark.slow]

WAIT_S = 90.0
GARBAGE = st.one_of(
    st.binary(max_size=24),
    st.sampled_from(
        [b"", b"abc", b"-1", b"0", b"1e999", b"9" * 30, b"\xff\xfe", b"nan", b"[]", b"{}", b"null"]
    ),
)
# Fields RQ parses when it fetches a job (created_at, status, timeout... : its own restore()).
PARSED_FIELDS = [
    "created_at",
    "enqueued_at",
    "started_at",
    "ended_at",
    "last_heartbeat",
    "status",
    "timeout",
    "result_ttl",
    "failure_ttl",
    "ttl",
    "retries_left",
    "retry_intervals",
    "number_of_retries",
    "dependency_ids",
    "allow_dependency_failures",
    "enqueue_at_front",
    "success_callback_timeout",
    "failure_callback_timeout",
    "repeats_left",
    "repeat_intervals",
    "rate_limit_concurrency",
    "meta",
    "origin",
    "worker_name",
    "group_id",
]


def _args(handler: Any, envelope: Any) -> bytes:
    return json.dumps([DISPATCHER_NAME, None, [handler, envelope], {}]).encode()


def _envelope(payload: Any, **fields: Any) -> dict[str, Any]:
    return {
        "id": "e" * 32,
        "type": "patient.created",
        "version": 1,
        "occurred_at": "2026-01-01T00:00:00Z",
        "producer": "",
        "correlation_id": "c",
        "causation_id": None,
        "payload": payload,
        **fields,
    }


HOSTILE_DATA = st.one_of(
    GARBAGE,
    st.integers(33, 400).map(
        lambda n: _args("rqsample.on_patient_created", _envelope(json.loads("[" * n + "]" * n)))
    ),
    st.integers(1000, 5000).map(
        lambda n: (
            f'["{DISPATCHER_NAME}",null,["rqsample.on_patient_created",'
            + '{"id":"x","type":"patient.created","occurred_at":"t","payload":{"a":'
            + "[" * n
            + "]" * n
            + "}}],{}]"
        ).encode()
    ),
    st.sampled_from(
        [
            _args("rqsample.on_patient_created", _envelope({"a": float("nan")})),
            _args("rqsample.on_patient_created", _envelope({"a": "\ud800"})),
            _args("rqsample.on_patient_created", _envelope({"a": 1}, version="2")),
            _args("rqsample.on_patient_created", _envelope({"a": 1}, type="no.such")),
            _args("rqsample.on_patient_created", "not a dict"),
            _args(["list"], _envelope({})),
            _args("no.such.handler", _envelope({"a": 1})),
            _args("rqsample.on_patient_created", _envelope({"big": "x" * 70_000})),
            zlib.compress(b"not json"),
            b'["os.system",null,["touch /tmp/pwned"],{}]',
        ]
    ),
)


def _good_job_hash(publisher: Publisher, job_id: str, queue_name: str) -> dict[str, Any]:
    """The hash the transport writes for a good job (its own builder, so it stays in step)."""
    event = Envelope(id=new_event_id(), type="patient.created", payload={}, correlation_id="c")
    return publisher.transport._job_fields(
        job_id, queue_name, "rqsample.on_patient_created", event, _envelope_json(event)
    )


@st.composite
def hostile_job(draw: st.DrawFn) -> dict[str, Any]:
    """Changes to a good job hash: garbage in parsed fields, and/or hostile job data."""
    changes: dict[str, Any] = {}
    for name in draw(st.sets(st.sampled_from(PARSED_FIELDS), max_size=3)):
        changes[name] = draw(GARBAGE)
    if not changes or draw(st.booleans()):
        changes["data"] = draw(HOSTILE_DATA)
    if draw(st.integers(0, 9)) == 0:
        changes["__delete__"] = draw(st.sampled_from(["data", "status", "origin", "created_at"]))
    return changes


@pytest.fixture
def serving(
    sample_publisher: Publisher,
    sample_env: dict[str, str],
    real_redis: RedisServer,
    key_prefix: str,
) -> Iterator[tuple[Publisher, subprocess.Popen[str]]]:
    queues = sample_publisher.settings.queue_names()
    worker = start_worker(
        rq_worker_command(
            real_redis.url, queues, burst=False, extra=["--name", f"{key_prefix}-fuzz"]
        ),
        sample_env,
    )
    try:
        yield sample_publisher, worker
    finally:
        worker.terminate()
        output = worker.communicate(timeout=60)[0]
        print(output[-3000:])


def _wait(condition: Any, what: str, worker: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if worker.poll() is not None:
            raise AssertionError(f"the worker stopped (status {worker.returncode}): {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_S}s: {what}")
        time.sleep(0.05)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(hostile_job(), min_size=1, max_size=3))
def test_hostile_job_hashes_are_failed_visibly_and_the_worker_goes_on(
    serving: tuple[Publisher, subprocess.Popen[str]], key_prefix: str, batch: list[dict[str, Any]]
) -> None:
    publisher, worker = serving
    client = publisher.client
    queue_name = publisher.settings.full_queue_name("eventbus")
    queue = Queue(queue_name, connection=client)
    failed = FailedJobRegistry(queue_name, connection=client)
    records = f"{key_prefix}:sample:on_patient_created"
    recorded_before = client.llen(records)
    hostile_ids = []
    for number, changes in enumerate(batch):
        publisher.bus.publish(EventType.PATIENT_CREATED, {"n": number})
        job_id = f"{key_prefix}-h{time.monotonic_ns()}"
        deleted = changes.get("__delete__")
        fields = {**_good_job_hash(publisher, job_id, queue_name), **changes}
        fields.pop("__delete__", None)
        fields.pop(deleted or "", None)
        client.hset(Job.key_for(job_id), mapping=fields)  # type: ignore[arg-type]
        client.rpush(queue.key, job_id)
        hostile_ids.append(job_id)
    publisher.bus.publish(EventType.PATIENT_CREATED, {"n": "last"})
    _wait(
        lambda: client.llen(records) >= recorded_before + len(batch) + 1,
        "every good job handled",
        worker,
    )

    def missing() -> dict[str, Any]:
        """Hostile jobs neither failed nor finished (garbage RQ ignores, such as an empty
        ``repeat_intervals``, leaves a job that runs normally)."""
        return {
            i: (batch[n], client.hmget(Job.key_for(i), "status", "origin"))
            for n, i in enumerate(hostile_ids)
            if client.zscore(failed.key, i) is None
            and client.hget(Job.key_for(i), "status") != b"finished"
        }

    try:
        _wait(lambda: not missing(), "every hostile job in the failed registry", worker)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {missing()}") from None
    store = RQDeadLetterStore(publisher.settings, client)
    for job_id in hostile_ids:
        assert client.lpos(queue.intermediate_queue_key, job_id) is None
        if client.zscore(failed.key, job_id) is not None:
            letter = store.get(job_id)
            assert letter.reason and letter.error_class, letter
    assert len(store.list(10_000)) == failed.count, "every failed job can be listed"
    assert worker.poll() is None, "the worker never stopped"
