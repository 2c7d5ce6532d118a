"""Declared payloads: one ``TypedDict`` per event, checked in ``publish()`` by default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, NotRequired

import pytest
from flask import Flask
from pydantic import ValidationError, with_config
from typing_extensions import TypedDict

from app.architecture.schema_text import fields_of
from app.core.events import EventType, PayloadSchemaError, event_bus
from app.core.events.payloads import (
    DECLARED_PAYLOADS,
    PatientCreated,
    PayloadSpec,
    check_declared_payload,
    declared_version,
)
from app.core.validation import STRICT, IsoDate, field_errors
from tests.support.schema import make_app

APPOINTMENT = {
    "appointment_id": "a1",
    "patient_id": "p1",
    "starts_at": "2030-01-15T09:30:00Z",
    "duration_minutes": 30,
}


def test_every_event_type_is_declared_and_nothing_else() -> None:
    assert set(DECLARED_PAYLOADS) == set(EventType)
    for event_type, spec in DECLARED_PAYLOADS.items():
        assert spec.version >= 1, event_type
        assert spec.description, f"{spec.shape.__name__} needs a docstring"
        names = list(spec.json_schema()["properties"])
        if event_type.split(".")[0] in {"patient", "appointment", "invoice", "notification"}:
            assert "patient_id" in names, f"{event_type} must carry patient_id (the timeline)"


def declared_fields(event_type: str) -> list[tuple[str, str, bool]]:
    schema = DECLARED_PAYLOADS[event_type].json_schema()
    return [(f.name, f.type, f.required) for f in fields_of(schema)]


def test_fields_are_readable_with_their_types_and_whether_required() -> None:
    assert declared_fields("patient.created") == [
        ("patient_id", "string", True),
        ("clinic_id", "string", True),
        ("full_name", "string", False),
        ("email", "string | null", False),
        ("phone", "string | null", False),
    ]
    kinds = {name: kind for name, kind, _ in declared_fields("notification.sent")}
    assert kinds["channel"] == "'email' | 'sms'"
    starts = {name: kind for name, kind, _ in declared_fields("appointment.scheduled")}
    assert starts["starts_at"] == "string (date-time)"
    assert declared_version("patient.created") == 1
    assert declared_version("custom.event") == 1


def test_the_seed_payload_is_a_valid_patient_created() -> None:
    seed: PatientCreated = {"patient_id": "42", "clinic_id": "7"}
    check_declared_payload(EventType.PATIENT_CREATED, dict(seed))


@pytest.mark.parametrize(
    ("event_type", "payload", "message"),
    [
        ("patient.created", {"patient_id": "p"}, "field 'clinic_id' is required"),
        ("patient.created", {"patient_id": "p", "clinic_id": 7}, "'clinic_id' must be a string"),
        (
            "patient.created",
            {"patient_id": "p", "clinic_id": "c", "mood": "ok"},
            "field 'mood' is not a known field",
        ),
        (
            "patient.created",
            {"patient_id": "p", "clinic_id": "c", "email": 3},
            "'email' must be a string",
        ),
        (
            "patient.updated",
            {
                "patient_id": "p",
                "clinic_id": "c",
                "changed": ["email", 3],
                "full_name": "A",
                "email": None,
                "phone": None,
            },
            "'changed[1]' must be a string",
        ),
        (
            "appointment.scheduled",
            {**APPOINTMENT, "duration_minutes": True},
            "'duration_minutes' must be an integer",
        ),
        (
            "appointment.scheduled",
            {**APPOINTMENT, "starts_at": "2030-01-15 09:30"},
            "'starts_at' must include a UTC offset",
        ),
        (
            "notification.sent",
            {"notification_id": "n", "patient_id": "p", "kind": "welcome", "channel": "fax"},
            "'channel' must be one of: email, sms",
        ),
    ],
)
def test_a_mismatch_names_the_field(event_type: str, payload: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadSchemaError, match=r"\(v1, ") as caught:
        check_declared_payload(event_type, payload)
    assert message in str(caught.value)
    assert event_type in str(caught.value)
    for value in payload.values():  # the message names the field, never a value
        if isinstance(value, str) and len(value) > 2:
            assert repr(value) not in str(caught.value)


def test_undeclared_names_are_not_checked() -> None:
    check_declared_payload("custom.event", {"anything": object()})


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'schemas.db'}",
            "MODULES_PACKAGE": "tests.app.modules.samples.empty",
            "TESTING": True,
        }
    )
    yield app
    event_bus.remove_owned("loader")


def test_an_app_checks_declarations_in_publish(app: Flask, eventbus: Any) -> None:
    got: list[dict[str, Any]] = []
    eventbus.subscribe(EventType.APPOINTMENT_SCHEDULED, got.append, handler_id="t.got")
    eventbus.publish(EventType.APPOINTMENT_SCHEDULED, APPOINTMENT)
    with pytest.raises(PayloadSchemaError, match="field 'room' is not a known field"):
        eventbus.publish(EventType.APPOINTMENT_SCHEDULED, {**APPOINTMENT, "room": "4"})
    assert got == [APPOINTMENT]  # nothing dispatched for the bad one


def test_validation_off_skips_the_declarations(tmp_path: Path, eventbus: Any) -> None:
    make_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'off.db'}",
            "MODULES_PACKAGE": "tests.app.modules.samples.empty",
            "EVENTBUS_VALIDATE_PAYLOADS": False,
        }
    )
    try:
        eventbus.publish(EventType.APPOINTMENT_SCHEDULED, {"anything": 1})
    finally:
        eventbus.configure(validate=True)


@with_config(STRICT)
class Line(TypedDict):
    """A nested shape."""

    amount: int


@with_config(STRICT)
class Invoice(TypedDict, total=False):
    """All optional but ``lines`` (``total=False``), nested lists and a date."""

    lines: list[Line]
    due: IsoDate
    kind: Literal["a", 1]
    extra: NotRequired[dict[str, float]]


def problem(spec: PayloadSpec, payload: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        spec.check(payload)
    return "; ".join(f"{where}: {message}" for where, message in field_errors(caught.value).items())


def test_nested_shapes_optional_keys_and_formats() -> None:
    spec = PayloadSpec(Invoice, version=3)
    assert [f.required for f in fields_of(spec.json_schema())] == [False] * 4
    spec.check({"lines": [{"amount": 1}], "due": "2030-01-01", "kind": 1, "extra": {"x": 1}})
    cases: list[tuple[dict[str, Any], str]] = [
        ({"lines": [{"amount": "1"}]}, "lines[0].amount: must be an integer"),
        ({"lines": [{}]}, "lines[0].amount: is required"),
        ({"due": "soon"}, "due: must be a valid date, YYYY-MM-DD"),
        ({"kind": "1"}, "kind: must be one of: a"),
        ({"extra": {"x": "y"}}, "extra.x: must be a number"),
        ({"lines": "x"}, "lines: must be a list"),
        ({"lines": [{"amount": 1, "more": 2}]}, "lines[0].more: is not a known field"),
    ]
    for bad, message in cases:
        assert message in problem(spec, bad), bad


def test_a_bad_version_fails_when_declared() -> None:
    with pytest.raises(ValueError, match="version must be >= 1"):
        PayloadSpec(Line, version=0)


def test_str_subclasses_such_as_enum_members_are_strings() -> None:
    check_declared_payload(
        "patient.created", {"patient_id": EventType.PATIENT_CREATED, "clinic_id": "c"}
    )


def test_the_payload_is_not_changed_by_the_check() -> None:
    payload = {"patient_id": EventType.PATIENT_CREATED, "clinic_id": "c"}
    check_declared_payload("patient.created", payload)
    assert type(payload["patient_id"]) is EventType
