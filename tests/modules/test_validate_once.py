"""Each event of a clinic request is checked exactly once (JSON safety and declared shape),
by the one-pass walk of its declared shape.

``publish_after_commit`` checks an event when it is queued; the after-commit send (and, with
the outbox, the relay) hands on the prepared envelope without checking it again.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from app.core.events import payload, payloads
from app.core.events.testing import EventRecorder
from tests.modules.clinic import Clinic


@pytest.fixture
def checks(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the payload checks the clinic's bus makes: ``check`` for each event checked
    (``PayloadValidator.check``), ``json`` and ``schema`` for the full checks it fell back to
    (none for a valid event: the one-pass walk of its declared shape vouches for it)."""
    counted: Counter[str] = Counter()
    validator = clinic.app.extensions["eventbus"].bus.validator
    check, json_check = validator.check, payload.check_payload
    schema_check = payloads.check_declared_payload

    def count_check(event_type: str, data: Any, remote: bool) -> str | None:
        counted["check"] += 1
        encoded: str | None = check(event_type, data, remote)
        return encoded

    def count_json(payload: object, max_bytes: int, max_depth: int) -> str | None:
        counted["json"] += 1
        return json_check(payload, max_bytes, max_depth)

    def count_schema(event_type: str, payload: dict[str, Any]) -> None:
        counted["schema"] += 1
        schema_check(event_type, payload)

    monkeypatch.setattr(validator, "check", count_check)
    monkeypatch.setattr("app.core.events.validation.check_payload", count_json)
    monkeypatch.setattr(validator, "_schema_check", count_schema)
    return counted


def test_post_patients_checks_its_event_once(
    clinic: Clinic, checks: Counter[str], published_events: EventRecorder
) -> None:
    clinic.create_patient()
    clinic.settle()
    published = len(published_events)
    assert "patient.created" in published_events.types()
    assert checks == {"check": published}


def test_a_whole_visit_checks_each_event_once(
    clinic: Clinic, checks: Counter[str], published_events: EventRecorder
) -> None:
    patient = clinic.create_patient()
    appointment = clinic.schedule(patient["id"])
    clinic.post(f"/appointments/{appointment['id']}/cancel", expect=200)
    clinic.settle()
    published = len(published_events)
    assert published >= 3
    assert checks == {"check": published}
