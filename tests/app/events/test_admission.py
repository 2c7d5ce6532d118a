"""What a worker accepts is what ``publish()`` accepts: depth, encodability, size, shape,
version, name; checked again on every envelope a worker read (``EventBus.admit``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from app.config import defaults, load_config
from app.core.events import EventBus, EventType
from app.core.events.envelope import Envelope, new_event_id
from app.core.events.exceptions import (
    EventValidationError,
    MalformedEnvelopeError,
    PayloadEncodingError,
    PayloadSchemaError,
    PayloadTooLargeError,
    UnknownEventError,
)
from app.core.events.extension import init_app
from app.core.events.payload import decode_payload
from app.core.events.payloads import check_declared_payload

GOOD = {"patient_id": "p1", "clinic_id": "c1"}


def nested(depth: int) -> dict[str, Any]:
    """A payload of ``depth`` containers: ``{"n": [[...]]}``."""
    value: Any = []
    for _ in range(depth - 2):
        value = [value]
    return {"n": value}


@pytest.fixture
def strict_bus() -> EventBus:
    bus = EventBus()
    bus.configure(validate=True, schema_check=check_declared_payload, max_payload_bytes=200)
    return bus


def envelope(payload: Any = None, **fields: Any) -> Envelope:
    values: dict[str, Any] = {
        "id": new_event_id(),
        "type": EventType.PATIENT_CREATED,
        "payload": GOOD if payload is None else payload,
        "correlation_id": "c",
    }
    values.update(fields)
    return Envelope(**values)


def test_publish_bounds_nesting_depth_by_the_setting() -> None:
    bus = EventBus()
    bus.configure(validate=True, max_json_depth=5, strict=False)
    bus.publish("x.y", nested(5))
    with pytest.raises(PayloadEncodingError, match="deeper than 5 levels"):
        bus.publish("x.y", nested(6))


def test_a_payload_far_deeper_than_the_stack_is_refused_by_name_not_a_recursion_error() -> None:
    bus = EventBus()
    bus.configure(validate=True, strict=False)
    with pytest.raises(PayloadEncodingError, match="deeper than 32 levels") as caught:
        bus.publish("x.y", nested(50_000))
    assert len(str(caught.value)) < 400  # the path is cut short, not 50,000 levels long


def test_a_cycle_is_still_named_as_one_under_the_depth_limit() -> None:
    bus = EventBus()
    bus.configure(validate=True, strict=False, max_json_depth=4)
    looped: dict[str, Any] = {"a": {}}
    looped["a"]["b"] = looped
    with pytest.raises(PayloadEncodingError, match="contains itself"):
        bus.publish("x.y", looped)


def test_the_depth_comes_from_the_app_config() -> None:
    app = Flask(__name__)
    load_config(app, {"DATABASE_URL": "sqlite:///:memory:", "EVENTBUS_MAX_JSON_DEPTH": 3})
    bus = EventBus()
    init_app(app, bus)
    assert bus.max_json_depth == 3 and defaults()["EVENTBUS_MAX_JSON_DEPTH"] == 32


def test_decoding_a_hostile_nesting_is_a_value_error_not_a_recursion_error() -> None:
    text = '{"a":' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(ValueError, match="nested too deeply"):
        decode_payload(text)
    with pytest.raises(MalformedEnvelopeError):
        Envelope.from_fields({**envelope().to_fields(), "payload": text})


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (envelope(nested(40)), PayloadEncodingError),
        (envelope({"x": float("nan")}), PayloadEncodingError),
        (envelope({**GOOD, "full_name": "x" * 300}), PayloadTooLargeError),
        (envelope({"patient_id": 1}), PayloadSchemaError),
        (envelope(version=2), EventValidationError),
        (envelope(type="no.such"), UnknownEventError),
    ],
    ids=["deep", "nan", "large", "shape", "version", "name"],
)
def test_admit_refuses_what_publish_would_refuse(
    strict_bus: EventBus, event: Envelope, error: type[Exception]
) -> None:
    with pytest.raises(error):
        strict_bus.admit(event)
    if event.type in set(EventType) and event.version == 1:  # publish() sets the version
        with pytest.raises(EventValidationError):
            strict_bus.publish(event.type, event.payload)


def test_admit_accepts_a_published_payload_read_back(strict_bus: EventBus) -> None:
    fields = envelope().to_fields()
    strict_bus.admit(Envelope.from_fields(json.loads(json.dumps(fields))))


def test_deliver_admits_before_the_handler_runs(strict_bus: EventBus) -> None:
    ran: list[Any] = []
    strict_bus.subscribe(EventType.PATIENT_CREATED, ran.append, handler_id="t.h")
    with pytest.raises(PayloadEncodingError):
        strict_bus.deliver("t.h", envelope(nested(40)))
    assert ran == []
