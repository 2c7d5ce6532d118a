"""One ``POST /patients`` with every handler in a Redis Streams worker is ONE trace.

OpenTelemetry's SDK with its in-memory exporter; the HTTP span comes from
``opentelemetry-instrumentation-flask``. Expected, all with one trace id:

    POST /patients                          (SERVER, the request)
    └─ send patient.created                 (PRODUCER, in the request)
       ├─ process patient.created           (CONSUMER, notifications, in the worker)
       │  └─ send notification.sent         (PRODUCER, the welcome message's event)
       │     └─ process notification.sent   (CONSUMER, the timeline, in the worker)
       └─ process patient.created           (CONSUMER, the timeline, in the worker)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.app.observability_support import (
    EXPECTED_SPAN_NAMES,
    PATIENT,
    PATIENT_CREATED_HANDLERS,
    parent,
    traced_clinic,
)
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture
def traced(
    real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> Iterator[tuple[Flask, InMemorySpanExporter]]:
    config = {"EVENTBUS_TRANSPORT": "redis-streams", "EVENTBUS_OUTBOX": False}
    with traced_clinic(real_redis.url, key_prefix, tmp_path, config) as clinic:
        yield clinic


def _drain(app: Flask) -> None:
    from transports.redis_streams import StreamsWorker

    for _ in range(2):  # the second burst takes what the first one's handlers published
        worker = StreamsWorker.from_app(app, consumer_name="tracing-test")
        try:
            worker.run(burst=True)
        finally:
            worker.close()


def test_one_request_is_one_trace_across_the_worker(traced: tuple[Flask, Any]) -> None:
    app, exporter = traced
    assert app.test_client().post("/patients", json=PATIENT).status_code == 201
    _drain(app)

    finished: list[ReadableSpan] = list(exporter.get_finished_spans())
    assert len({span.context.trace_id for span in finished}) == 1, [s.name for s in finished]
    by_id = {span.context.span_id: span for span in finished}
    names = sorted(span.name for span in finished)
    assert names == EXPECTED_SPAN_NAMES, names

    http = next(s for s in finished if s.name == "POST /patients")
    assert http.kind is SpanKind.SERVER
    publish = next(s for s in finished if s.name == "send patient.created")
    assert publish.kind is SpanKind.PRODUCER
    assert parent(publish, by_id) is http
    assert publish.attributes is not None
    assert publish.attributes["messaging.destination.name"] == "patient.created"
    assert publish.attributes["messaging.operation.type"] == "send"

    handlers = [s for s in finished if s.name == "process patient.created"]
    assert {
        s.attributes["messaging.consumer.group.name"] for s in handlers if s.attributes
    } == PATIENT_CREATED_HANDLERS
    for span in handlers:
        assert span.kind is SpanKind.CONSUMER
        assert parent(span, by_id) is publish
        assert [link.context.span_id for link in span.links] == [publish.context.span_id]
        assert span.attributes is not None
        assert span.attributes["eventbus.transport"] == "redis-streams"
        assert span.attributes["messaging.message.id"] == publish.attributes["messaging.message.id"]

    nested = next(s for s in finished if s.name == "send notification.sent")
    welcome = parent(nested, by_id)
    assert welcome is not None
    assert welcome.attributes is not None
    assert welcome.attributes["messaging.consumer.group.name"] == "notifications.on_patient_created"
    timeline = next(s for s in finished if s.name == "process notification.sent")
    assert parent(timeline, by_id) is nested
