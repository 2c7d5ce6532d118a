"""Every bad input to ``publish()``: the exact exception type, and no handler runs."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from app.core.events import (
    EventBus,
    EventType,
    EventValidationError,
    PayloadEncodingError,
    PayloadTooLargeError,
    PayloadTypeError,
    UnknownEventError,
)


def cyclic() -> dict[str, Any]:
    payload: dict[str, Any] = {"patient_id": "p1", "links": []}
    payload["links"].append(payload)
    return payload


BAD_PAYLOADS = [
    pytest.param({"at": datetime.now(UTC)}, PayloadEncodingError, "isoformat", id="datetime"),
    pytest.param({"on": date(2026, 1, 2)}, PayloadEncodingError, "isoformat", id="date"),
    pytest.param({"amount": Decimal("9.99")}, PayloadEncodingError, "str(value)", id="decimal"),
    pytest.param({"tags": {"a", "b"}}, PayloadEncodingError, "sorted", id="set"),
    pytest.param({"id": uuid4()}, PayloadEncodingError, "str(value)", id="uuid"),
    pytest.param({"raw": b"\x00"}, PayloadEncodingError, "base64", id="bytes"),
    pytest.param({"score": math.nan}, PayloadEncodingError, "nan", id="nan"),
    pytest.param({"score": math.inf}, PayloadEncodingError, "inf", id="infinity"),
    pytest.param(
        {"nested": [{"deep": object()}]}, PayloadEncodingError, "['nested'][0]['deep']", id="object"
    ),
    pytest.param({1: "x"}, PayloadEncodingError, "keys are strings", id="int-key"),
    pytest.param(cyclic(), PayloadEncodingError, "reference cycle", id="cycle"),
    pytest.param(
        {"blob": "x" * 70_000}, PayloadTooLargeError, "EVENTBUS_MAX_PAYLOAD_BYTES", id="too-large"
    ),
    pytest.param(["patient_id", "p1"], PayloadTypeError, "must be a dict", id="list"),
    pytest.param("p1", PayloadTypeError, "must be a dict", id="str"),
    pytest.param(None, PayloadTypeError, "must be a dict", id="none"),
]


@pytest.mark.parametrize(("payload", "error", "hint"), BAD_PAYLOADS)
def test_bad_payload_raises_and_reaches_no_handler(
    bus: EventBus, payload: Any, error: type[Exception], hint: str
) -> None:
    got: list[Any] = []
    bus.subscribe(EventType.PATIENT_CREATED, got.append)
    with pytest.raises(error) as caught:
        bus.publish(EventType.PATIENT_CREATED, payload)
    assert hint in str(caught.value)
    assert isinstance(caught.value, EventValidationError)
    assert got == []


def test_unknown_event_name_is_rejected_in_strict_mode(bus: EventBus) -> None:
    got: list[Any] = []
    bus.subscribe("*", got.append)
    with pytest.raises(UnknownEventError, match=r"add it to app/core/events/types\.py"):
        bus.publish("patient.teleported", {"patient_id": "p1"})
    assert got == []


def test_unknown_names_and_patterns_cannot_be_subscribed(bus: EventBus) -> None:
    with pytest.raises(UnknownEventError):
        bus.subscribe("patient.teleported", print)
    with pytest.raises(UnknownEventError, match="matches no member"):
        bus.subscribe("spaceship.*", print)
    assert bus.subscriptions() == ()


def test_non_strict_mode_accepts_any_name() -> None:
    bus = EventBus()
    bus.configure(strict=False)
    got: list[Any] = []
    bus.subscribe("lab.result_ready", got.append)
    bus.publish("lab.result_ready", {"lab_id": "l1"})
    assert got == [{"lab_id": "l1"}]


def test_a_large_payload_under_the_limit_is_measured_exactly() -> None:
    bus = EventBus()
    bus.configure(max_payload_bytes=1000)
    got: list[Any] = []
    bus.subscribe(EventType.PATIENT_UPDATED, got.append, handler_id="t.got")
    # 6 bytes per char is the bound; the real encoding is 1 per char, so this fits.
    bus.publish(EventType.PATIENT_UPDATED, {"note": "x" * 900})
    with pytest.raises(PayloadTooLargeError, match="1001 bytes"):
        bus.publish(EventType.PATIENT_UPDATED, {"note": "x" * 990})
    assert len(got) == 1


def test_json_subclasses_are_accepted_as_their_base_types(bus: EventBus) -> None:
    got: list[Any] = []
    bus.subscribe(EventType.PATIENT_UPDATED, got.append)
    payload = {"event": EventType.PATIENT_CREATED, "ok": True, "n": None, "t": (1, 2)}
    bus.publish(EventType.PATIENT_UPDATED, payload)
    assert got == [payload]


def test_validation_off_skips_checks_for_in_process_only_events() -> None:
    bus = EventBus()
    bus.configure(validate=False)
    got: list[Any] = []
    bus.subscribe(EventType.PATIENT_CREATED, got.append, handler_id="t.got")
    bus.publish(EventType.PATIENT_CREATED, {"at": date(2026, 1, 1)})
    assert got == [{"at": date(2026, 1, 1)}]


def test_lone_surrogates_are_rejected_as_redis_would(bus: EventBus) -> None:
    with pytest.raises(PayloadEncodingError, match=r"payload\['name'\] contains a lone surrogate"):
        bus.publish(EventType.PATIENT_UPDATED, {"name": "Zo\ud800"})
    with pytest.raises(PayloadEncodingError, match="lone surrogate"):
        bus.publish(EventType.PATIENT_UPDATED, {"tags": ["ok", "\udfff"]})
    bus.publish(EventType.PATIENT_UPDATED, {"name": "Zoë 😀"})


def test_validate_event_checks_without_publishing(bus: EventBus) -> None:
    got: list[Any] = []
    bus.subscribe(EventType.PATIENT_CREATED, got.append, handler_id="t.got")
    bus.validate_event(EventType.PATIENT_CREATED, {"patient_id": "p1"})
    with pytest.raises(UnknownEventError):
        bus.validate_event("patient.teleported", {})
    with pytest.raises(PayloadEncodingError):
        bus.validate_event(EventType.PATIENT_CREATED, {"at": date(2026, 1, 1)})
    assert got == []


def test_a_schema_check_can_be_removed() -> None:
    calls: list[str] = []
    bus = EventBus()
    bus.configure(schema_check=lambda name, payload: calls.append(name))
    bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1"})
    bus.configure(schema_check=None)
    bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1"})
    assert calls == ["patient.created"]
