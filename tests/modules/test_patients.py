"""Patients over HTTP: every endpoint, the events each write publishes, every bad input."""

from __future__ import annotations

import pytest

from app.core.events.testing import EventRecorder
from tests.modules.clinic import Clinic, assert_error

MISSING_ID = "0" * 32


@pytest.mark.reactions
def test_create_returns_the_patient_and_publishes_patient_created(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    patient = clinic.create_patient(
        full_name="  Ada Lovelace ",
        email="ada@example.org",
        phone="+44 20 7946 0000",
        date_of_birth="1815-12-10",
    )
    assert patient["full_name"] == "Ada Lovelace"
    assert patient["date_of_birth"] == "1815-12-10"
    assert patient["status"] == "active"
    assert patient["clinic_id"] == "main"
    assert len(patient["id"]) == 32
    assert published_events.of_type("patient.created") == [
        {
            "patient_id": patient["id"],
            "clinic_id": "main",
            "full_name": "Ada Lovelace",
            "email": "ada@example.org",
            "phone": "+44 20 7946 0000",
        }
    ]
    (envelope,) = [e.envelope for e in published_events if e.type == "patient.created"]
    assert envelope is not None and envelope.producer == "patients"


def test_read_returns_the_stored_patient(clinic: Clinic) -> None:
    created = clinic.create_patient(clinic_id="north")
    assert clinic.get(f"/patients/{created['id']}") == created


def test_list_is_paginated_oldest_first(clinic: Clinic) -> None:
    ids = [clinic.create_patient(full_name=f"Patient {n}")["id"] for n in range(5)]
    first = clinic.get("/patients?page=1&per_page=2")
    second = clinic.get("/patients?page=2&per_page=2")
    last = clinic.get("/patients?page=3&per_page=2")
    assert [p["id"] for p in first["items"] + second["items"] + last["items"]] == ids
    assert (first["total"], first["page"], first["per_page"]) == (5, 1, 2)
    assert clinic.get("/patients?page=4&per_page=2")["items"] == []
    assert clinic.get("/patients")["per_page"] == 20


def test_list_filters_by_status(clinic: Clinic) -> None:
    kept = clinic.create_patient()["id"]
    gone = clinic.create_patient()["id"]
    clinic.post(f"/patients/{gone}/archive", expect=200)
    assert [p["id"] for p in clinic.get("/patients?status=active")["items"]] == [kept]
    assert [p["id"] for p in clinic.get("/patients?status=archived")["items"]] == [gone]


@pytest.mark.reactions
def test_update_changes_fields_and_publishes_what_changed(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    patient = clinic.create_patient()
    updated = clinic.patch(f"/patients/{patient['id']}", {"email": None, "phone": "+1 555 0100"})
    assert (updated["email"], updated["phone"]) == (None, "+1 555 0100")
    assert updated["updated_at"] >= patient["updated_at"]
    assert published_events.of_type("patient.updated") == [
        {
            "patient_id": patient["id"],
            "clinic_id": "main",
            "changed": ["email", "phone"],
            "full_name": "Ada Lovelace",
            "email": None,
            "phone": "+1 555 0100",
        }
    ]


@pytest.mark.reactions
def test_update_without_a_change_publishes_nothing(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    patient = clinic.create_patient()
    clinic.patch(f"/patients/{patient['id']}", {"full_name": "Ada Lovelace"})
    clinic.patch(f"/patients/{patient['id']}", {})
    published_events.assert_not_published("patient.updated")


@pytest.mark.reactions
def test_archive_publishes_patient_archived(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    patient = clinic.create_patient()
    archived = clinic.post(f"/patients/{patient['id']}/archive", expect=200)
    assert archived["status"] == "archived" and archived["archived_at"]
    published_events.assert_published("patient.archived", patient_id=patient["id"])


@pytest.mark.reactions
def test_request_id_is_echoed_and_carried_into_the_event(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    response = clinic.call(
        "POST",
        "/patients",
        json={"full_name": "Ada", "email": "ada@example.org"},
        headers={"X-Request-ID": "req-123"},
    )
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "req-123"
    clinic.settle()
    envelopes = [event.envelope for event in published_events]
    assert {e.type: e.correlation_id for e in envelopes if e is not None} == {
        "patient.created": "req-123",
        "notification.sent": "req-123",  # caused by the first, carried into its handler
    }


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"full_name": "is required"}),
        ({"full_name": 42}, {"full_name": "must be a string"}),
        ({"full_name": ""}, {"full_name": "must not be empty"}),
        ({"full_name": "x" * 201}, {"full_name": "must be at most 200 characters"}),
        ({"full_name": "A\u0000B"}, {"full_name": "must not contain control characters"}),
        ({"full_name": "A\ud800"}, {"full_name": "must be valid Unicode text"}),
        ({"full_name": "Ada", "\ud800": 1}, {"\ud800": "is not a known field"}),
        ({"full_name": None}, {"full_name": "must not be null"}),
        ({"full_name": "Ada", "age": 3}, {"age": "is not a known field"}),
        (
            {"full_name": "Ada", "date_of_birth": "10/12/1815"},
            {"date_of_birth": "must be a valid date, YYYY-MM-DD"},
        ),
        (
            {"full_name": "Ada", "date_of_birth": "2999-01-01"},
            {"date_of_birth": "must not be in the future"},
        ),
        (
            {"full_name": "Ada", "date_of_birth": 1815},
            {"date_of_birth": "must be a date string, YYYY-MM-DD"},
        ),
        ({"full_name": "Ada", "email": "not-an-address"}, {"email": "must be an e-mail address"}),
        ({"full_name": "Ada", "phone": "call me"}, {"phone": "has the wrong format"}),
        (
            {"full_name": ["Ada"], "email": 7, "extra": True},
            {
                "full_name": "must be a string",
                "email": "must be a string",
                "extra": "is not a known field",
            },
        ),
    ],
)
def test_create_rejects_invalid_fields(
    clinic: Clinic, published_events: EventRecorder, body: dict[str, object], fields: dict[str, str]
) -> None:
    response = clinic.call("POST", "/patients", json=body)
    assert_error(response, 400, "invalid_request", fields)
    assert len(published_events) == 0
    assert clinic.get("/patients")["total"] == 0


def test_create_rejects_a_non_json_body_with_415(clinic: Clinic) -> None:
    response = clinic.call("POST", "/patients", data="full_name=Ada")
    assert_error(response, 415, "unsupported_media_type")
    response = clinic.call("POST", "/patients", data="{}", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("raw", ["{", '{"full_name": NaN}', "\xff", ""])
def test_create_rejects_malformed_json(clinic: Clinic, raw: str) -> None:
    response = clinic.call("POST", "/patients", data=raw, content_type="application/json")
    assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize("raw", ["[]", '"Ada"', "null", "3"])
def test_create_rejects_a_body_that_is_not_an_object(clinic: Clinic, raw: str) -> None:
    response = clinic.call("POST", "/patients", data=raw, content_type="application/json")
    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("patient_id", [MISSING_ID, "nope", "%00", "A" * 32])
def test_unknown_patient_is_404_everywhere(clinic: Clinic, patient_id: str) -> None:
    assert_error(clinic.call("GET", f"/patients/{patient_id}"), 404, "patient_not_found")
    assert_error(
        clinic.call("PATCH", f"/patients/{patient_id}", json={"full_name": "X"}),
        404,
        "patient_not_found",
    )
    assert_error(clinic.call("POST", f"/patients/{patient_id}/archive"), 404, "patient_not_found")


def test_update_rejects_invalid_fields(clinic: Clinic) -> None:
    patient = clinic.create_patient()
    response = clinic.call(
        "PATCH", f"/patients/{patient['id']}", json={"full_name": None, "status": "archived"}
    )
    assert_error(
        response,
        400,
        "invalid_request",
        {"full_name": "must not be null", "status": "is not a known field"},
    )
    assert_error(
        clinic.call("PATCH", f"/patients/{patient['id']}", data="x"), 415, "unsupported_media_type"
    )


def test_archived_patient_cannot_be_updated_or_archived_again(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    patient = clinic.create_patient()
    clinic.post(f"/patients/{patient['id']}/archive", expect=200)
    published_events.clear()
    update = clinic.call("PATCH", f"/patients/{patient['id']}", json={"full_name": "B"})
    assert_error(update, 409, "patient_archived")
    assert_error(clinic.call("POST", f"/patients/{patient['id']}/archive"), 409, "patient_archived")
    assert len(published_events) == 0


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("page=0", {"page": "must be greater than zero"}),
        ("page=abc", {"page": "must be an integer"}),
        ("per_page=101", {"per_page": "must be at most 100"}),
        ("status=deleted", {"status": "must be one of: active, archived"}),
    ],
)
def test_list_rejects_bad_query_parameters(
    clinic: Clinic, query: str, fields: dict[str, str]
) -> None:
    assert_error(clinic.call("GET", f"/patients?{query}"), 400, "invalid_request", fields)


def test_wrong_method_is_a_json_405(clinic: Clinic) -> None:
    response = clinic.call("DELETE", "/patients")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
