"""``BusMetrics`` counts each observation once, with bounded label values."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from app.core.events.envelope import Envelope
from app.core.events.instrumentation import Kind, Observation
from app.observability.metrics import BusMetrics


def _metrics() -> tuple[BusMetrics, CollectorRegistry]:
    registry = CollectorRegistry()
    metrics = BusMetrics(
        registry,
        known_event_type={"patient.created"}.__contains__,
        known_handler={"notifications.on_patient_created"}.__contains__,
    )
    return metrics, registry


def test_counts_and_durations_per_label() -> None:
    metrics, registry = _metrics()
    envelope = Envelope("e1", "patient.created", {"email": "ada@example.org"}, "c1")
    metrics.observe(Observation(Kind.PUBLISHED, "patient.created", "redis-streams",
                                envelope=envelope))  # fmt: skip
    for kind in (Kind.HANDLED, Kind.FAILED, Kind.RETRIED, Kind.DEAD_LETTERED, Kind.HANDLED):
        metrics.observe(
            Observation(kind, "patient.created", "rq", "notifications.on_patient_created", 0.002)
        )
    labels = {
        "event_type": "patient.created",
        "handler_id": "notifications.on_patient_created",
        "transport": "rq",
    }
    value = registry.get_sample_value
    assert value("eventbus_events_published_total",
                 {"event_type": "patient.created", "transport": "redis-streams"}) == 1  # fmt: skip
    assert value("eventbus_events_handled_total", labels) == 2
    assert value("eventbus_events_failed_total", labels) == 1
    assert value("eventbus_events_retried_total", labels) == 1
    assert value("eventbus_events_dead_lettered_total", labels) == 1
    assert value("eventbus_handler_duration_seconds_count", labels) == 3  # handled + failed
    assert value("eventbus_handler_duration_seconds_bucket", {**labels, "le": "0.0025"}) == 3


def test_unknown_names_are_counted_as_other() -> None:
    metrics, registry = _metrics()
    for n in range(50):
        metrics.observe(Observation(Kind.DEAD_LETTERED, f"forged.{n}", f"carrier-{n}", f"h{n}"))
    other = {"event_type": "other", "handler_id": "other", "transport": "other"}
    assert registry.get_sample_value("eventbus_events_dead_lettered_total", other) == 50
    text = generate_latest(registry)
    assert b"forged" not in text
    assert b"ada@example.org" not in text
