"""Correlation ids from ``X-Request-ID`` into every event; causation ids for nested publishes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from app.core.events import EventBus, EventType, bind_correlation_id, current_event
from app.core.events.envelope import Envelope
from app.core.events.testing import EventRecorder
from tests.support.schema import make_app


@pytest.fixture
def app(eventbus: EventBus) -> Iterator[Flask]:
    app = make_app({"MODULES_PACKAGE": "tests.app.modules.samples.empty", "TESTING": True})

    @app.post("/_publish")
    def publish() -> dict[str, str]:
        eventbus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1", "clinic_id": "c1"})
        return {"ok": "yes"}

    yield app


def test_request_id_is_echoed_and_carried_into_events(
    app: Flask, published_events: EventRecorder
) -> None:
    response = app.test_client().post("/_publish", headers={"X-Request-ID": "req-abc.1"})
    assert response.headers["X-Request-ID"] == "req-abc.1"
    [event] = published_events.events
    assert event.envelope is not None
    assert event.envelope.correlation_id == "req-abc.1"


def test_a_missing_or_unsafe_request_id_is_replaced(
    app: Flask, published_events: EventRecorder
) -> None:
    client = app.test_client()
    first = client.post("/_publish").headers["X-Request-ID"]
    second = client.post("/_publish", headers={"X-Request-ID": "bad id <script>"}).headers[
        "X-Request-ID"
    ]
    assert len(first) == 32 and len(second) == 32 and first != second
    ids = [e.envelope.correlation_id for e in published_events.events if e.envelope]
    assert ids == [first, second]


def test_handler_publishes_carry_causation_and_correlation(bus: EventBus) -> None:
    seen: dict[str, Envelope] = {}

    def schedule(payload: dict[str, Any]) -> None:
        parent = current_event()
        assert parent is not None
        seen["parent"] = parent
        bus.publish(EventType.APPOINTMENT_SCHEDULED, {"appointment_id": "a1", "patient_id": "p1"})

    def notify(payload: dict[str, Any]) -> None:
        child = current_event()
        assert child is not None
        seen["child"] = child

    bus.subscribe(EventType.PATIENT_CREATED, schedule, handler_id="t.schedule")
    bus.subscribe(EventType.APPOINTMENT_SCHEDULED, notify, handler_id="t.notify")
    with bind_correlation_id("corr-1"):
        bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1"})
    assert seen["child"].causation_id == seen["parent"].id
    assert seen["child"].correlation_id == seen["parent"].correlation_id == "corr-1"
    assert seen["parent"].producer == __name__


def test_without_a_request_the_root_event_starts_the_correlation(bus: EventBus) -> None:
    seen: list[Envelope | None] = []
    bus.subscribe(EventType.PATIENT_CREATED, lambda p: seen.append(current_event()))
    bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1"})
    [envelope] = seen
    assert envelope is not None and envelope.correlation_id == envelope.id


def test_current_event_is_none_outside_handlers() -> None:
    assert current_event() is None


def test_each_publish_gets_its_own_envelope(bus: EventBus) -> None:
    ids: list[str] = []

    def record(payload: dict[str, Any]) -> None:
        envelope = current_event()
        assert envelope is not None
        ids.append(envelope.id)
        assert current_event() is envelope, "stable within one dispatch"

    bus.subscribe(EventType.PATIENT_CREATED, record, handler_id="t.record")
    payload = {"patient_id": "p1"}
    for _ in range(3):
        bus.publish(EventType.PATIENT_CREATED, payload)
    assert len(set(ids)) == 3


def test_envelopes_carry_the_declared_payload_version(
    bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.events import payloads

    spec = payloads.DECLARED_PAYLOADS[EventType.PATIENT_UPDATED]
    monkeypatch.setitem(
        payloads.DECLARED_PAYLOADS,
        EventType.PATIENT_UPDATED,
        payloads.PayloadSpec(spec.shape, version=3),
    )
    seen: list[Envelope | None] = []
    bus.subscribe(EventType.PATIENT_UPDATED, lambda p: seen.append(current_event()))
    bus.publish(EventType.PATIENT_UPDATED, {"patient_id": "p1"})
    [envelope] = seen
    assert envelope is not None and envelope.version == 3
