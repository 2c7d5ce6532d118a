"""The original API (subscribe, unsubscribe, publish, clear) and its two examples, as written."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from app.core.events import EventBus, EventType, HandlerError, event_bus
from tests.support.schema import make_app


@pytest.fixture
def seed_app() -> Iterator[Flask]:
    app = make_app({"MODULES_PACKAGE": "tests.app.modules.samples.seed", "TESTING": True})
    yield app
    event_bus.remove_owned("loader")


def test_seed_publish_example_reaches_the_seed_module_handler(seed_app: Flask) -> None:
    from tests.app.modules.samples.seed.notifications import RECEIVED

    RECEIVED.clear()
    patient = SimpleNamespace(id=42, clinic_id=7)
    # The original publishing example, verbatim:
    from app.core.events import event_bus

    # In service layer
    event_bus.publish("patient.created", {
        "patient_id": str(patient.id),
        "clinic_id": str(patient.clinic_id),
    })  # fmt: skip
    assert RECEIVED == [("patient.created", {"patient_id": "42", "clinic_id": "7"})]
    ids = [sub.handler_id for sub in event_bus.subscriptions_for(EventType.PATIENT_CREATED)]
    assert ids == ["notifications.on_patient_created"]


def test_subscribe_publish_unsubscribe_clear(bus: EventBus) -> None:
    got: list[dict[str, Any]] = []
    bus.subscribe("patient.created", got.append)
    bus.publish("patient.created", {"patient_id": "1"})
    bus.unsubscribe("patient.created", got.append)
    bus.publish("patient.created", {"patient_id": "2"})
    assert got == [{"patient_id": "1"}]
    bus.subscribe("patient.created", got.append)
    bus.clear()
    bus.publish("patient.created", {"patient_id": "3"})
    assert got == [{"patient_id": "1"}]
    assert bus.subscriptions() == ()


def test_handlers_run_in_subscription_order(bus: EventBus) -> None:
    order: list[str] = []
    bus.subscribe("appointment.*", lambda p: order.append("wildcard"))
    bus.subscribe(EventType.APPOINTMENT_SCHEDULED, lambda p: order.append("exact"))
    bus.subscribe("*", lambda p: order.append("all"))
    bus.publish(EventType.APPOINTMENT_SCHEDULED, {"appointment_id": "a"})
    assert order == ["wildcard", "exact", "all"]


def test_unsubscribe_of_unknown_handler_is_a_no_op(bus: EventBus) -> None:
    bus.unsubscribe("patient.created", print)


def test_publishing_with_no_subscribers_does_nothing(bus: EventBus) -> None:
    bus.publish(EventType.INVOICE_PAID, {"invoice_id": "i", "amount": 10})


def test_a_handler_can_subscribe_during_dispatch(bus: EventBus) -> None:
    late: list[Any] = []

    def subscribe_more(payload: dict[str, Any]) -> None:
        bus.subscribe(EventType.PATIENT_CREATED, late.append, handler_id="t.late")

    bus.subscribe(EventType.PATIENT_CREATED, subscribe_more, handler_id="t.first")
    bus.publish(EventType.PATIENT_CREATED, {"patient_id": "1"})
    assert late == [], "a subscription made during dispatch applies to the next publish"
    bus.publish(EventType.PATIENT_CREATED, {"patient_id": "2"})
    assert late == [{"patient_id": "2"}]


def test_singleton_raises_handler_errors_under_pytest() -> None:
    assert event_bus.raise_handler_errors is True
    assert issubclass(HandlerError, ExceptionGroup)
