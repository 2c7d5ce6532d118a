"""The bus's RQ classes trust nothing in a job hash (property-based, RQ's own worker code on
fakeredis): a corrupt or hostile bus job is failed visibly with its reason or, where the
garbage is harmless to RQ, simply runs; it is never left in RQ's intermediate list; the good
jobs between them all run; and the worker's loop never stops on them (``work()`` returns,
never raises ``RQWorkerStoppedError``). ``test_kill_recovery.py`` runs real ``rq worker``
processes; this fuzz stays in-process so it can try many hashes quickly.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import fakeredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rq.job import Job
from rq.queue import Queue
from rq.registry import FailedJobRegistry

from app.core.events import EventBus, EventType, Router
from app.core.events.envelope import Envelope, new_event_id
from transports.rq_queue import RQDeadLetterStore, RQSettings, RQTransport, installed
from transports.rq_queue.dispatcher import DISPATCHER_NAME
from transports.rq_queue.transport import _envelope_json
from transports.rq_queue.worker import BusSimpleWorker

HANDLER = "t.ok"
PREFIX = "fuzz-rq"
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
    st.integers(33, 400).map(lambda n: _args(HANDLER, _envelope(json.loads("[" * n + "]" * n)))),
    st.integers(1000, 5000).map(
        lambda n: (
            f'["{DISPATCHER_NAME}",null,[HANDLER,'
            + '{"id":"x","type":"patient.created","occurred_at":"t","payload":{"a":'
            + "[" * n
            + "]" * n
            + "}}],{}]"
        ).encode()
    ),
    st.sampled_from(
        [
            _args(HANDLER, _envelope({"a": float("nan")})),
            _args(HANDLER, _envelope({"a": "\ud800"})),
            _args(HANDLER, _envelope({"a": 1}, version="2")),
            _args(HANDLER, _envelope({"a": 1}, type="no.such")),
            _args(HANDLER, "not a dict"),
            _args(["list"], _envelope({})),
            _args("no.such.handler", _envelope({"a": 1})),
            _args(HANDLER, _envelope({"big": "x" * 70_000})),
            zlib.compress(b"not json"),
            b'["os.system",null,["touch /tmp/pwned"],{}]',
        ]
    ),
)


def _good_job_hash(transport: RQTransport, job_id: str, queue_name: str) -> dict[str, Any]:
    """The hash the transport writes for a good job (its own builder, so it stays in step)."""
    event = Envelope(id=new_event_id(), type="patient.created", payload={}, correlation_id="c")
    return transport._job_fields(job_id, queue_name, HANDLER, event, _envelope_json(event))


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


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(batch=st.lists(hostile_job(), min_size=1, max_size=4))
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
        fields = {**_good_job_hash(transport, job_id, queue_name), **changes}
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
