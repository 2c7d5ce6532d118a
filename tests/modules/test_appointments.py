"""Appointments over HTTP: every endpoint, its events, every bad input, every conflict."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.events.testing import EventRecorder
from tests.modules.clinic import Clinic, assert_error, future

MISSING_ID = "0" * 32


@pytest.fixture
def patient(clinic: Clinic) -> dict[str, Any]:
    return clinic.create_patient()


@pytest.mark.reactions
def test_schedule_returns_the_appointment_and_publishes(
    clinic: Clinic, patient: dict[str, Any], published_events: EventRecorder
) -> None:
    starts_at = future(days=10)
    appointment = clinic.schedule(patient["id"], starts_at=starts_at, reason="Check-up")
    assert appointment["status"] == "scheduled"
    assert appointment["starts_at"] == starts_at
    assert (appointment["duration_minutes"], appointment["reason"]) == (30, "Check-up")
    assert published_events.of_type("appointment.scheduled") == [
        {
            "appointment_id": appointment["id"],
            "patient_id": patient["id"],
            "starts_at": starts_at,
            "duration_minutes": 30,
        }
    ]


def test_schedule_converts_offsets_to_utc(clinic: Clinic, patient: dict[str, Any]) -> None:
    local = future(days=3, hour=12).replace("Z", "+02:00")
    appointment = clinic.schedule(patient["id"], starts_at=local, duration_minutes=45)
    assert appointment["starts_at"] == future(days=3, hour=10)
    assert appointment["duration_minutes"] == 45


def test_read_and_list(clinic: Clinic, patient: dict[str, Any]) -> None:
    other = clinic.create_patient(full_name="Grace Hopper")
    later = clinic.schedule(patient["id"], starts_at=future(days=20))
    sooner = clinic.schedule(patient["id"], starts_at=future(days=2))
    clinic.schedule(other["id"])
    assert clinic.get(f"/appointments/{later['id']}") == later
    mine = clinic.get(f"/appointments?patient_id={patient['id']}")["items"]
    assert [a["id"] for a in mine] == [sooner["id"], later["id"]]
    assert len(clinic.get("/appointments")["items"]) == 3
    assert len(clinic.get("/appointments?limit=1")["items"]) == 1


@pytest.mark.reactions
def test_reschedule_moves_it_and_publishes_both_times(
    clinic: Clinic, patient: dict[str, Any], published_events: EventRecorder
) -> None:
    appointment = clinic.schedule(patient["id"], starts_at=future(days=5))
    moved = clinic.post(
        f"/appointments/{appointment['id']}/reschedule",
        {"starts_at": future(days=6), "duration_minutes": 60},
        expect=200,
    )
    assert (moved["starts_at"], moved["duration_minutes"]) == (future(days=6), 60)
    assert published_events.of_type("appointment.rescheduled") == [
        {
            "appointment_id": appointment["id"],
            "patient_id": patient["id"],
            "starts_at": future(days=6),
            "previous_starts_at": future(days=5),
            "duration_minutes": 60,
        }
    ]


@pytest.mark.reactions
def test_cancel_with_and_without_reason(
    clinic: Clinic, patient: dict[str, Any], published_events: EventRecorder
) -> None:
    first = clinic.schedule(patient["id"])
    second = clinic.schedule(patient["id"], starts_at=future(days=40))
    cancelled = clinic.post(f"/appointments/{first['id']}/cancel", {"reason": "Flu"}, expect=200)
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Flu")
    clinic.post(f"/appointments/{second['id']}/cancel", expect=200)
    assert published_events.of_type("appointment.cancelled") == [
        {
            "appointment_id": first["id"],
            "patient_id": patient["id"],
            "starts_at": first["starts_at"],
            "reason": "Flu",
        },
        {
            "appointment_id": second["id"],
            "patient_id": patient["id"],
            "starts_at": second["starts_at"],
            "reason": None,
        },
    ]


@pytest.mark.reactions
def test_complete_publishes(
    clinic: Clinic, patient: dict[str, Any], published_events: EventRecorder
) -> None:
    appointment = clinic.schedule(patient["id"])
    done = clinic.post(f"/appointments/{appointment['id']}/complete", expect=200)
    assert done["status"] == "completed"
    assert published_events.of_type("appointment.completed") == [
        {"appointment_id": appointment["id"], "patient_id": patient["id"]}
    ]


# -- conflicts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "then", "body", "code"),
    [
        ("cancel", "cancel", None, "appointment_cancelled"),
        ("cancel", "complete", None, "appointment_cancelled"),
        ("cancel", "reschedule", {"starts_at": future()}, "appointment_cancelled"),
        ("complete", "cancel", None, "appointment_completed"),
        ("complete", "complete", None, "appointment_completed"),
        ("complete", "reschedule", {"starts_at": future()}, "appointment_completed"),
    ],
)
def test_only_a_scheduled_appointment_can_change(
    clinic: Clinic,
    patient: dict[str, Any],
    published_events: EventRecorder,
    first: str,
    then: str,
    body: dict[str, Any] | None,
    code: str,
) -> None:
    appointment = clinic.schedule(patient["id"])
    clinic.post(f"/appointments/{appointment['id']}/{first}", expect=200)
    published_events.clear()
    response = clinic.call("POST", f"/appointments/{appointment['id']}/{then}", json=body)
    assert_error(response, 409, code)
    assert len(published_events) == 0


def test_no_appointment_for_an_archived_patient(
    clinic: Clinic, patient: dict[str, Any], published_events: EventRecorder
) -> None:
    booked = clinic.schedule(patient["id"])
    clinic.post(f"/patients/{patient['id']}/archive", expect=200)
    published_events.clear()
    response = clinic.call(
        "POST", "/appointments", json={"patient_id": patient["id"], "starts_at": future()}
    )
    assert_error(response, 409, "patient_archived")
    response = clinic.call(
        "POST", f"/appointments/{booked['id']}/reschedule", json={"starts_at": future(days=9)}
    )
    assert_error(response, 409, "patient_archived")
    assert len(published_events) == 0
    clinic.post(f"/appointments/{booked['id']}/cancel", expect=200)  # cancelling still works


def test_unknown_patient_is_404(clinic: Clinic, published_events: EventRecorder) -> None:
    response = clinic.call(
        "POST", "/appointments", json={"patient_id": MISSING_ID, "starts_at": future()}
    )
    assert_error(response, 404, "patient_not_found")
    assert len(published_events) == 0


@pytest.mark.parametrize("appointment_id", [MISSING_ID, "not-an-id"])
@pytest.mark.parametrize("action", ["cancel", "complete", "reschedule"])
def test_unknown_appointment_is_404(clinic: Clinic, appointment_id: str, action: str) -> None:
    assert_error(
        clinic.call("GET", f"/appointments/{appointment_id}"), 404, "appointment_not_found"
    )
    body = {"starts_at": future()} if action == "reschedule" else {}
    response = clinic.call("POST", f"/appointments/{appointment_id}/{action}", json=body)
    assert_error(response, 404, "appointment_not_found")


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"starts_at": None}, {"starts_at": "must not be null"}),
        (
            {"starts_at": "tomorrow"},
            {"starts_at": "must be a valid ISO 8601 date-time, e.g. 2030-01-15T09:30:00Z"},
        ),
        (
            {"starts_at": "2031-02-30T09:00:00Z"},
            {"starts_at": "must be a valid ISO 8601 date-time, e.g. 2030-01-15T09:30:00Z"},
        ),
        (
            {"starts_at": "2035-01-15T09:30:00"},
            {"starts_at": "must include a UTC offset, e.g. 2030-01-15T09:30:00Z"},
        ),
        ({"starts_at": "2001-01-15T09:30:00Z"}, {"starts_at": "must be in the future"}),
        (
            {"starts_at": "9999-12-31T23:59:59-14:00"},
            {"starts_at": "must be between years 1 and 9999 in UTC"},
        ),
        (
            {"starts_at": "0001-01-01T00:00:00+01:00"},
            {"starts_at": "must be between years 1 and 9999 in UTC"},
        ),
        (
            {"starts_at": 1700000000},
            {"starts_at": "must be a date-time string, e.g. 2030-01-15T09:30:00Z"},
        ),
        ({"duration_minutes": -30}, {"duration_minutes": "must not be negative"}),
        ({"duration_minutes": 2}, {"duration_minutes": "must be at least 5"}),
        ({"duration_minutes": 30.5}, {"duration_minutes": "must be an integer"}),
        ({"duration_minutes": "30"}, {"duration_minutes": "must be an integer"}),
        ({"duration_minutes": True}, {"duration_minutes": "must be an integer"}),
        ({"patient_id": 12}, {"patient_id": "must be a string"}),
        ({"room": "A"}, {"room": "is not a known field"}),
    ],
)
def test_schedule_rejects_invalid_fields(
    clinic: Clinic,
    patient: dict[str, Any],
    published_events: EventRecorder,
    change: dict[str, Any],
    fields: dict[str, str],
) -> None:
    published_events.clear()
    body = {"patient_id": patient["id"], "starts_at": future(), **change}
    assert_error(clinic.call("POST", "/appointments", json=body), 400, "invalid_request", fields)
    assert len(published_events) == 0
    assert clinic.get("/appointments")["items"] == []


def test_schedule_requires_patient_and_time(clinic: Clinic) -> None:
    response = clinic.call("POST", "/appointments", json={})
    assert_error(
        response,
        400,
        "invalid_request",
        {"patient_id": "is required", "starts_at": "is required"},
    )


def test_reschedule_and_cancel_reject_invalid_bodies(
    clinic: Clinic, patient: dict[str, Any]
) -> None:
    appointment = clinic.schedule(patient["id"])
    base = f"/appointments/{appointment['id']}"
    assert_error(
        clinic.call("POST", f"{base}/reschedule", json={}),
        400,
        "invalid_request",
        {"starts_at": "is required"},
    )
    assert_error(
        clinic.call("POST", f"{base}/cancel", json={"reason": 5}),
        400,
        "invalid_request",
        {"reason": "must be a string"},
    )
    assert_error(clinic.call("POST", f"{base}/cancel", data="why"), 415, "unsupported_media_type")
    assert_error(clinic.call("POST", "/appointments", data="x"), 415, "unsupported_media_type")
    assert clinic.get(base)["status"] == "scheduled"


def test_list_rejects_a_bad_patient_id(clinic: Clinic) -> None:
    assert_error(
        clinic.call("GET", "/appointments?patient_id=42"),
        400,
        "invalid_request",
        {"patient_id": "must be an id (32 hexadecimal characters)"},
    )
