"""Through the transactional outbox, one ``POST /patients`` is still ONE trace.

The clinic with the outbox on and every handler in a worker (Redis Streams or RQ): the
request writes the outbox row, the relay sends it later, a worker consumes it. The row carries
the trace context of the span current when the event was queued (the request's), so each
consumer span is a child of that span and links to it, in the request's trace, as on the
direct path (where the parent is the producer span). Expected, all with one trace id:

    POST /patients                          (SERVER, the request; queues the row)
    ├─ send patient.created                 (PRODUCER, after the commit: in-process part)
    ├─ process patient.created              (CONSUMER, notifications, in the worker)
    │  └─ process notification.sent         (CONSUMER, the timeline, relayed in its turn)
    └─ process patient.created              (CONSUMER, the timeline, in the worker)

(plus the ``send notification.sent`` producer span of the nested publish's commit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.core.outbox import EXTENSION, OutboxRelay
from tests.app.observability_support import (
    EXPECTED_SPAN_NAMES,
    PATIENT,
    PATIENT_CREATED_HANDLERS,
    parent,
    traced_clinic,
)
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis


def _streams_burst(app: Flask) -> None:
    from transports.redis_streams import StreamsWorker

    worker = StreamsWorker.from_app(app, consumer_name="outbox-tracing-test")
    try:
        worker.run(burst=True)
    finally:
        worker.close()


def _rq_burst(app: Flask) -> None:
    from transports.rq_queue import build_worker

    name = f"outbox-tracing-{app.config['EVENTBUS_KEY_PREFIX']}"
    build_worker(app, simple=True, name=name).work(burst=True, with_scheduler=False)


WORKERS: dict[str, Callable[[Flask], None]] = {"redis-streams": _streams_burst, "rq": _rq_burst}


@pytest.fixture(params=sorted(WORKERS))
def traced(
    request: pytest.FixtureRequest, real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> Iterator[tuple[Flask, InMemorySpanExporter, str]]:
    """The clinic, outbox on (relay run by the test), every handler on one remote transport."""
    transport: str = request.param
    config = {
        "EVENTBUS_TRANSPORT": transport,
        "EVENTBUS_OUTBOX": True,
        "EVENTBUS_OUTBOX_RELAY": "none",
    }
    with traced_clinic(real_redis.url, key_prefix, tmp_path, config) as (app, exporter):
        yield app, exporter, transport


def test_an_event_relayed_from_the_outbox_continues_the_request_trace(
    traced: tuple[Flask, InMemorySpanExporter, str],
) -> None:
    app, exporter, transport = traced
    relay: OutboxRelay = app.extensions[EXTENSION]
    assert app.test_client().post("/patients", json=PATIENT).status_code == 201
    for _ in range(2):  # the second round relays what the first one's handlers queued
        assert relay.drain() >= 1
        WORKERS[transport](app)
    assert relay.store.stats().backlog == 0

    finished: list[ReadableSpan] = list(exporter.get_finished_spans())
    names = sorted(span.name for span in finished)
    assert names == EXPECTED_SPAN_NAMES, names
    assert len({span.context.trace_id for span in finished}) == 1, [
        (s.name, s.context.trace_id) for s in finished
    ]
    by_id = {span.context.span_id: span for span in finished}
    http = next(s for s in finished if s.name == "POST /patients")
    assert http.kind is SpanKind.SERVER

    handlers = [s for s in finished if s.name == "process patient.created"]
    assert {
        s.attributes["messaging.consumer.group.name"] for s in handlers if s.attributes
    } == PATIENT_CREATED_HANDLERS
    for span in handlers:
        assert span.kind is SpanKind.CONSUMER
        assert parent(span, by_id) is http  # the span current when the row was queued
        assert [link.context.span_id for link in span.links] == [http.context.span_id]
        assert span.attributes is not None
        assert span.attributes["eventbus.transport"] == transport

    welcome = next(
        s
        for s in handlers
        if s.attributes
        and s.attributes["messaging.consumer.group.name"] == "notifications.on_patient_created"
    )
    timeline = next(s for s in finished if s.name == "process notification.sent")
    assert parent(timeline, by_id) is welcome  # queued in the worker's handler, relayed too
    assert [link.context.span_id for link in timeline.links] == [welcome.context.span_id]


def test_without_a_current_span_the_row_carries_no_trace_context(
    traced: tuple[Flask, Any, str],
) -> None:
    """No tracer provider span around the publish (a script): nothing to continue, nothing
    stamped; the consumer's span starts a trace of its own, as before."""
    app = traced[0]
    from app.core.persistence import publish_after_commit
    from app.db import db

    relay: OutboxRelay = app.extensions[EXTENSION]
    with app.app_context():
        publish_after_commit(
            "patient.archived", {"patient_id": "p1", "clinic_id": "c1"}, producer="patients"
        )
        db.session.commit()
    claim = relay.store.claim(10)
    assert claim is not None
    assert [(e.traceparent, e.tracestate) for e in claim.envelopes] == [(None, None)]
    relay.store.release(claim)
