"""Declared payloads: one ``TypedDict`` per event, checked in ``publish()`` by default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

import pytest
from flask import Flask

from app import create_app
from app.core.events import EventType, PayloadSchemaError, event_bus
from app.core.events.payload_shapes import IsoDate, PayloadSpec, ShapeError
from app.core.events.schemas import (
    DECLARED_PAYLOADS,
    PatientCreated,
    check_declared_payload,
    declared_fields,
    declared_version,
)

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
        names = [field.name for field in spec.fields]
        if event_type.split(".")[0] in {"patient", "appointment", "invoice", "notification"}:
            assert "patient_id" in names, f"{event_type} must carry patient_id (the timeline)"


def test_fields_are_readable_with_their_types_and_whether_required() -> None:
    assert [(f.name, f.type, f.required) for f in declared_fields("patient.created")] == [
        ("patient_id", "str", True),
        ("clinic_id", "str", True),
        ("full_name", "str", False),
        ("email", "str | None", False),
        ("phone", "str | None", False),
    ]
    kinds = {f.name: f.type for f in declared_fields("notification.sent")}
    assert kinds["channel"] == "'email' | 'sms'"
    starts = {f.name: f.type for f in declared_fields("appointment.scheduled")}["starts_at"]
    assert starts == "str (ISO 8601 date-time with a UTC offset)"
    assert declared_version("patient.created") == 1
    assert declared_fields("custom.event") == () and declared_version("custom.event") == 1


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
            "field 'mood' is not declared in PatientCreated",
        ),
        (
            "patient.created",
            {"patient_id": "p", "clinic_id": "c", "email": 3},
            "'email' must be str | None, got int",
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
            "'duration_minutes' must be an integer, got bool",
        ),
        (
            "appointment.scheduled",
            {**APPOINTMENT, "starts_at": "2030-01-15 09:30"},
            "'starts_at' must be an ISO 8601 date-time with a UTC offset",
        ),
        (
            "notification.sent",
            {"notification_id": "n", "patient_id": "p", "kind": "welcome", "channel": "fax"},
            "'channel' must be one of 'email', 'sms', got 'fax'",
        ),
    ],
)
def test_a_mismatch_names_the_field(event_type: str, payload: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadSchemaError, match=r"\(v1\)") as caught:
        check_declared_payload(event_type, payload)
    assert message in str(caught.value)
    assert event_type in str(caught.value)


def test_undeclared_names_are_not_checked() -> None:
    check_declared_payload("custom.event", {"anything": object()})


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
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
    with pytest.raises(PayloadSchemaError, match="field 'room' is not declared"):
        eventbus.publish(EventType.APPOINTMENT_SCHEDULED, {**APPOINTMENT, "room": "4"})
    assert got == [APPOINTMENT]  # nothing dispatched for the bad one


def test_validation_off_skips_the_declarations(tmp_path: Path, eventbus: Any) -> None:
    create_app(
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


class Line(TypedDict):
    """A nested shape."""

    amount: int


class Invoice(TypedDict, total=False):
    """All optional but ``lines`` (``total=False``), nested lists and a date."""

    lines: list[Line]
    due: IsoDate
    kind: Literal["a", 1]
    extra: NotRequired[dict[str, float]]


def test_nested_shapes_optional_keys_and_formats() -> None:
    spec = PayloadSpec(Invoice, version=3)
    assert [(f.name, f.required) for f in spec.fields] == [
        ("lines", False),
        ("due", False),
        ("kind", False),
        ("extra", False),
    ]
    spec.check({"lines": [{"amount": 1}], "due": "2030-01-01", "kind": 1, "extra": {"x": 1}})
    cases: list[tuple[dict[str, Any], str]] = [
        ({"lines": [{"amount": "1"}]}, "'lines[0].amount' must be an integer"),
        ({"lines": [{}]}, "field 'lines[0].amount' is required"),
        ({"due": "soon"}, "'due' must be an ISO 8601 date"),
        ({"kind": "1"}, "'kind' must be one of 'a', 1"),
        ({"kind": True}, "'kind' must be one of 'a', 1"),
        ({"extra": {"x": "y"}}, "'extra.x' must be a number"),
        ({"lines": "x"}, "'lines' must be a list"),
    ]
    for bad, message in cases:
        with pytest.raises(ShapeError) as caught:
            spec.check(bad)
        assert message in str(caught.value), (bad, str(caught.value))


def test_unsupported_declarations_fail_when_declared() -> None:
    class Loose(TypedDict):
        """Untyped."""

        value: Any

    class Sets(TypedDict):
        """Not JSON."""

        value: set[str]

    with pytest.raises(TypeError, match="Any is not a declaration"):
        PayloadSpec(Loose)
    with pytest.raises(TypeError, match="unsupported annotation"):
        PayloadSpec(Sets)
    with pytest.raises(TypeError, match="not a TypedDict"):
        PayloadSpec(dict)
    with pytest.raises(ValueError, match="version must be >= 1"):
        PayloadSpec(Line, version=0)


def test_the_fast_path_never_accepts_what_the_detailed_check_rejects() -> None:
    """``check()`` answers from a generated fast path; it must agree with the detailed one."""
    corpus: list[Any] = [
        {},
        [],
        None,
        {"patient_id": "p", "clinic_id": "c"},
        {"patient_id": "p", "clinic_id": "c", "email": None, "phone": "1", "full_name": "A"},
        {"patient_id": "p", "clinic_id": "c", "email": 1},
        {"patient_id": EventType.PATIENT_CREATED, "clinic_id": "c"},  # a str subclass
        {"patient_id": True, "clinic_id": "c"},
        {**APPOINTMENT},
        {**APPOINTMENT, "starts_at": "2030-01-15T09:30:00"},
        {**APPOINTMENT, "duration_minutes": 1.5},
        {**APPOINTMENT, "extra": 1},
        {"notification_id": "n", "patient_id": "p", "kind": "welcome", "channel": "sms"},
        {"notification_id": "n", "patient_id": "p", "kind": "welcome", "channel": "fax"},
        {
            "patient_id": "p",
            "clinic_id": "c",
            "changed": ("email",),
            "full_name": "A",
            "email": None,
            "phone": None,
        },
    ]
    for spec in [*DECLARED_PAYLOADS.values(), PayloadSpec(Invoice)]:
        for payload in corpus:
            if spec._fits(payload):
                assert spec._check(payload, "") is None, (spec.shape.__name__, payload)
    str_subclass = {"patient_id": EventType.PATIENT_CREATED, "clinic_id": "c"}
    check_declared_payload("patient.created", str_subclass)  # accepted by the detailed check
