"""Hypothesis strategies for hostile RQ job hashes, shared by the in-process and real-worker fuzz.

A hostile job is a set of changes to the hash ``RQTransport`` writes for a good job
(:func:`good_job_hash`): garbage in the fields RQ parses, job data that is not JSON, not the
dispatcher's call, hostile JSON (deep nesting, lone surrogates, NaN), huge values, a missing
field (``"__delete__": name``). :func:`hostile_job` may also yield garbage RQ tolerates (a bad
``origin``, an empty field); :func:`refused_job` yields only what a bus worker must fail.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from hypothesis import strategies as st

from app.core.events.envelope import Envelope, new_event_id
from transports.rq_queue import RQTransport
from transports.rq_queue.dispatcher import DISPATCHER_NAME
from transports.rq_queue.transport import _envelope_json

__all__ = [
    "GARBAGE",
    "PARSED_FIELDS",
    "good_job_hash",
    "hostile_data",
    "hostile_job",
    "refused_job",
]

GARBAGE = st.one_of(
    st.binary(max_size=24),
    st.sampled_from(
        [b"", b"abc", b"-1", b"0", b"1e999", b"9" * 30, b"\xff\xfe", b"nan", b"[]", b"{}", b"null"]
    ),
)
NON_EMPTY_GARBAGE = GARBAGE.filter(bool)  # RQ reads an empty field as absent
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
"""Fields RQ parses when it fetches a job (its own ``restore()``)."""


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


def hostile_data(handler: str) -> st.SearchStrategy[bytes]:
    """Job data a bus worker must refuse, for jobs naming ``handler``."""
    return st.one_of(
        NON_EMPTY_GARBAGE,
        st.integers(33, 400).map(
            lambda n: _args(handler, _envelope(json.loads("[" * n + "]" * n)))
        ),
        st.integers(1000, 5000).map(
            lambda n: (
                f'["{DISPATCHER_NAME}",null,["{handler}",'
                + '{"id":"x","type":"patient.created","occurred_at":"t","payload":{"a":'
                + "[" * n
                + "]" * n
                + "}}],{}]"
            ).encode()
        ),
        st.sampled_from(
            [
                _args(handler, _envelope({"a": float("nan")})),
                _args(handler, _envelope({"a": "\ud800"})),
                _args(handler, "\udfff").replace(b"\\udfff", b"\xed\xbf\xbf"),  # raw surrogate
                _args(handler, _envelope({"a": 1}, version="2")),
                _args(handler, _envelope({"a": 1}, type="no.such")),
                _args(handler, "not a dict"),
                _args(["list"], _envelope({})),
                _args("no.such.handler", _envelope({"a": 1})),
                _args(handler, _envelope({"big": "x" * 70_000})),
                zlib.compress(b"not json"),
                b'["os.system",null,["touch /tmp/pwned"],{}]',
            ]
        ),
    )


def good_job_hash(
    transport: RQTransport, job_id: str, queue_name: str, handler: str
) -> dict[str, Any]:
    """The hash the transport writes for a good job (its own builder, so it stays in step)."""
    event = Envelope(id=new_event_id(), type="patient.created", payload={}, correlation_id="c")
    return transport._job_fields(job_id, queue_name, handler, event, _envelope_json(event))


@st.composite
def hostile_job(draw: st.DrawFn, handler: str) -> dict[str, Any]:
    """Changes to a good job hash: garbage in parsed fields, and/or hostile job data."""
    changes: dict[str, Any] = {}
    for name in draw(st.sets(st.sampled_from(PARSED_FIELDS), max_size=3)):
        changes[name] = draw(GARBAGE)
    if not changes or draw(st.booleans()):
        changes["data"] = draw(st.one_of(st.just(b""), hostile_data(handler)))
    if draw(st.integers(0, 9)) == 0:
        changes["__delete__"] = draw(st.sampled_from(["data", "status", "origin", "created_at"]))
    return changes


@st.composite
def refused_job(draw: st.DrawFn, handler: str) -> dict[str, Any]:
    """Changes no bus worker may run: garbage ``created_at``/``status``/``timeout``, a missing
    or hostile ``data``, sometimes with a huge description or huge garbage on top."""
    changes: dict[str, Any] = {}
    kind = draw(st.sampled_from(["fields", "data", "missing data"]))
    if kind == "fields":
        for name in draw(st.sets(st.sampled_from(["created_at", "status", "timeout"]), min_size=1)):
            changes[name] = draw(NON_EMPTY_GARBAGE)
    elif kind == "data":
        changes["data"] = draw(hostile_data(handler))
    else:
        changes["__delete__"] = "data"
    if draw(st.integers(0, 4)) == 0:
        huge = draw(st.sampled_from(["description", "timeout", "created_at"]))
        changes[huge] = b"9" * 1_000_000 if huge != "description" else b"d" * 1_000_000
    return changes
