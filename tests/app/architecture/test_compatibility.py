"""``events check`` against the committed AsyncAPI document: breaking payload changes fail.

Each test plants one change in a declaration (a ``TypedDict`` standing in for the real
``PatientCreated``) and compares it with the committed ``docs/asyncapi.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NotRequired

import pytest
import yaml
from pydantic import with_config
from typing_extensions import TypedDict

from app.architecture import PROJECT_ROOT, analyse, check_report
from app.architecture import compatibility as compatibility_module
from app.architecture.asyncapi import ASYNCAPI_PATH
from app.architecture.compatibility import (
    BreakingChange,
    breaking_changes,
    committed_payloads,
    compatibility_findings,
)
from app.core.events.payloads import DECLARED_PAYLOADS, PayloadSpec
from app.core.validation import STRICT

EVENT = "patient.created"


@pytest.fixture(scope="module")
def committed() -> Mapping[str, Any]:
    document = yaml.safe_load((PROJECT_ROOT / ASYNCAPI_PATH).read_text(encoding="utf-8"))
    return committed_payloads(document)


def planted(shape: type[Any], version: int = 1) -> dict[str, PayloadSpec]:
    return {**DECLARED_PAYLOADS, EVENT: PayloadSpec(shape, version=version)}


def changes(committed: Mapping[str, Any], shape: type[Any], version: int = 1) -> list[str]:
    return [f"{c.kind}: {c.field}" for c in breaking_changes(committed, planted(shape, version))]


@with_config(STRICT)
class Removed(TypedDict):
    """``full_name`` removed."""

    patient_id: str
    clinic_id: str
    email: NotRequired[str | None]
    phone: NotRequired[str | None]


@with_config(STRICT)
class Retyped(TypedDict):
    """``clinic_id`` is an integer now."""

    patient_id: str
    clinic_id: int
    full_name: NotRequired[str]
    email: NotRequired[str | None]
    phone: NotRequired[str | None]


@with_config(STRICT)
class NewlyRequired(TypedDict):
    """``full_name`` required now."""

    patient_id: str
    clinic_id: str
    full_name: str
    email: NotRequired[str | None]
    phone: NotRequired[str | None]


@with_config(STRICT)
class AddedRequired(TypedDict):
    """A new required field."""

    patient_id: str
    clinic_id: str
    full_name: NotRequired[str]
    email: NotRequired[str | None]
    phone: NotRequired[str | None]
    date_of_birth: str


@with_config(STRICT)
class NoLongerRequired(TypedDict):
    """``clinic_id`` optional now."""

    patient_id: str
    clinic_id: NotRequired[str]
    full_name: NotRequired[str]
    email: NotRequired[str | None]
    phone: NotRequired[str | None]


@with_config(STRICT)
class AddedOptional(TypedDict):
    """A new optional field: compatible. (The docstring changed too: prose breaks nothing.)"""

    patient_id: str
    clinic_id: str
    full_name: NotRequired[str]
    email: NotRequired[str | None]
    phone: NotRequired[str | None]
    date_of_birth: NotRequired[str | None]


def test_the_committed_document_matches_the_declarations(committed: Mapping[str, Any]) -> None:
    assert breaking_changes(committed) == []
    assert compatibility_findings() == []


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        (Removed, ["removed: full_name"]),
        (Retyped, ["retyped: clinic_id"]),
        (NewlyRequired, ["newly required: full_name"]),
        (AddedRequired, ["newly required: date_of_birth"]),
        (NoLongerRequired, ["no longer required: clinic_id"]),
    ],
)
def test_each_kind_of_breaking_change_fails_naming_the_event_and_field(
    committed: Mapping[str, Any], shape: type[Any], expected: list[str]
) -> None:
    assert changes(committed, shape) == expected
    [change] = breaking_changes(committed, planted(shape))
    assert str(change).startswith(f"{EVENT}: field {change.field!r} ")
    assert "without a version bump (still v1)" in str(change)


def test_a_retyped_field_says_from_what_to_what(committed: Mapping[str, Any]) -> None:
    [change] = breaking_changes(committed, planted(Retyped))
    assert "(string → integer)" in str(change)


def test_adding_an_optional_field_is_compatible(committed: Mapping[str, Any]) -> None:
    assert changes(committed, AddedOptional) == []


def test_a_version_bump_accepts_any_change_and_a_lower_version_fails(
    committed: Mapping[str, Any],
) -> None:
    assert changes(committed, Removed, version=2) == []
    old = committed[EVENT]
    bumped = {**committed, EVENT: type(old)(version=3, schema=old.schema)}
    assert breaking_changes(bumped) == [
        BreakingChange(EVENT, "", "version", "version went down from 3 to 1")
    ]


def test_an_event_no_longer_declared_is_breaking(committed: Mapping[str, Any]) -> None:
    declared = {k: v for k, v in DECLARED_PAYLOADS.items() if k != EVENT}
    assert [str(c) for c in breaking_changes(committed, declared)] == [
        f"{EVENT}: the payload is no longer declared"
    ]


def test_events_check_fails_on_a_planted_change_and_names_event_and_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(DECLARED_PAYLOADS, EVENT, PayloadSpec(Retyped))
    lines, code = check_report(analyse("modules"))
    assert code == 1
    [line] = [line for line in lines if "breaking change" in line]
    assert line.startswith("tests/app/architecture/test_compatibility.py:")
    assert f"error: breaking change: {EVENT}: field 'clinic_id' was retyped" in line


def test_a_missing_or_unreadable_document_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [missing] = compatibility_findings(tmp_path / "none.yaml")
    assert missing.severity == "warning" and "events asyncapi" in missing.message
    junk = tmp_path / "junk.yaml"
    junk.write_text("components: {messages: {x: {name: a}}}\n")
    [unreadable] = compatibility_findings(junk)
    assert unreadable.severity == "error" and "cannot read its messages" in unreadable.message
    monkeypatch.setattr(compatibility_module, "PROJECT_ROOT", tmp_path)
    assert compatibility_findings()[0].severity == "warning"
