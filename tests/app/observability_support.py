"""Shared by the observability and dashboard tests: no observer outlives its test; and the
traced clinic of the tracing tests (direct and through the outbox), with what they expect.

OpenTelemetry is imported only by :func:`traced_clinic`: the other tests that use this module
run without the ``tracing`` extra.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

from app.core.events.instrumentation import HOOK

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

PATIENT = {"full_name": "Ada", "email": "ada@example.org", "date_of_birth": "1815-12-10"}
# The spans of one ``POST /patients`` with every handler in a worker, direct or relayed from
# the outbox (sorted: compare with the sorted names of the finished spans).
EXPECTED_SPAN_NAMES = sorted([
    "POST /patients",
    "send patient.created",
    "process patient.created",
    "process patient.created",
    "send notification.sent",
    "process notification.sent",
])  # fmt: skip
# The consumer groups of the two ``process patient.created`` spans.
PATIENT_CREATED_HANDLERS = {"notifications.on_patient_created", "patient_timeline.on_event"}


@contextmanager
def observers_restored() -> Iterator[None]:
    """Remove, after the block, every observer added to the hook during it."""
    before = HOOK.observers()
    try:
        yield
    finally:
        for observer in HOOK.observers():
            if observer not in before:
                HOOK.remove(observer)


@contextmanager
def traced_clinic(
    redis_url: str, key_prefix: str, tmp_path: Path, config: Mapping[str, Any]
) -> Iterator[tuple[Flask, InMemorySpanExporter]]:
    """The clinic (``make_app``) on ``redis_url`` under ``key_prefix``, a SQLite database in
    ``tmp_path`` and ``config`` on top, traced by an SDK provider whose spans the exporter
    keeps, the HTTP span from ``opentelemetry-instrumentation-flask``. After the block:
    tracing and the instrumentation removed, the observers restored, the keys under the
    prefix (RQ's too) deleted, the app's transports closed."""
    import redis
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from app.observability.tracing import install_tracing, uninstall_tracing
    from tests.support.redis_server import delete_prefix
    from tests.support.schema import make_app

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with observers_restored():
        app = make_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'clinic.db'}",
                "EVENTBUS_REDIS_URL": redis_url,
                "EVENTBUS_KEY_PREFIX": key_prefix,
                "EVENTBUS_BLOCK_MS": 100,
                **config,
            }
        )
        install_tracing(provider)
        FlaskInstrumentor().instrument_app(app, tracer_provider=provider)  # type: ignore[no-untyped-call]
        try:
            yield app, exporter
        finally:
            uninstall_tracing()
            FlaskInstrumentor().uninstrument_app(app)  # type: ignore[no-untyped-call]
            client = redis.Redis.from_url(redis_url)
            delete_prefix(client, f"{key_prefix}*")
            delete_prefix(client, "rq:*" + key_prefix + "*")
            client.close()
            for transport in app.extensions["eventbus"].transports.values():
                transport.close()


def parent(span: ReadableSpan, spans: dict[int, ReadableSpan]) -> ReadableSpan | None:
    """``span``'s parent among ``spans`` (by span id), ``None`` for a root or one not there."""
    return spans.get(span.parent.span_id) if span.parent is not None else None
