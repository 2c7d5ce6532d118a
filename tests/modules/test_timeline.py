"""The patient timeline: a wildcard subscriber that records every patient event, in order."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.events import Envelope, EventType, event_bus
from app.core.events.exceptions import PayloadSchemaError
from app.core.events.payloads import check_declared_payload
from app.core.events.testing import EventRecorder
from app.db import db
from modules.patient_timeline.models import Entry
from tests.modules.clinic import STORY_EVENTS, Clinic, assert_error

MISSING_ID = "0" * 32


@pytest.mark.reactions
def test_every_event_of_the_story_in_the_order_it_occurred(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    ids = clinic.story(settle_each=True)  # reactions interleave with requests, as in-process
    entries = clinic.timeline(ids["patient"])
    types = [entry["event_type"] for entry in entries]
    assert [t for t in types if t != "notification.sent"] == list(STORY_EVENTS)
    assert types == [
        "patient.created",
        "notification.sent",
        "appointment.scheduled",
        "notification.sent",
        "appointment.rescheduled",
        "notification.sent",
        "appointment.cancelled",
        "notification.sent",
        "appointment.scheduled",
        "notification.sent",
        "appointment.completed",
        "invoice.issued",
        "invoice.payment_recorded",
        "invoice.payment_recorded",
        "invoice.paid",
        "notification.sent",
        "patient.updated",
        "patient.archived",
    ]
    times = [entry["occurred_at"] for entry in entries]
    assert times == sorted(times)
    recorded = {e.envelope.id: e.envelope for e in published_events if e.envelope is not None}
    for entry in entries:
        envelope = recorded[entry["event_id"]]
        assert (entry["event_type"], entry["producer"]) == (envelope.type, envelope.producer)
        assert entry["data"] == {k: v for k, v in envelope.payload.items() if k != "patient_id"}
    assert {e["producer"] for e in entries} == {
        "patients",
        "appointments",
        "billing",
        "notifications",
    }


@pytest.mark.reactions
def test_a_reaction_names_its_cause_and_shares_its_correlation(clinic: Clinic) -> None:
    patient = clinic.create_patient()["id"]
    created, sent = clinic.timeline(patient)
    assert (created["event_type"], sent["event_type"]) == ("patient.created", "notification.sent")
    assert sent["causation_id"] == created["event_id"]
    assert sent["correlation_id"] == created["correlation_id"]
    assert created["causation_id"] is None
    assert sent["summary"] == "Notification sent by email: welcome"
    assert created["summary"] == "Patient registered"


@pytest.mark.reactions
def test_only_the_patients_own_events(clinic: Clinic) -> None:
    ada = clinic.create_patient()["id"]
    grace = clinic.create_patient(full_name="Grace Hopper", email=None)["id"]
    clinic.schedule(grace)
    assert [e["event_type"] for e in clinic.timeline(ada)] == [
        "patient.created",
        "notification.sent",
    ]
    assert [e["event_type"] for e in clinic.timeline(grace)] == [
        "patient.created",
        "appointment.scheduled",
    ]
    assert clinic.timeline(MISSING_ID) == []


@pytest.mark.reactions
def test_every_published_payload_matches_its_declaration(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    clinic.story()
    clinic.settle()
    assert {event.type for event in published_events} == set(EventType)
    for event in published_events:
        check_declared_payload(event.type, event.payload)


def test_events_without_a_patient_id_are_not_recorded(clinic: Clinic) -> None:
    envelope = Envelope(
        id="5" * 32, type=EventType.INVOICE_ISSUED, payload={"invoice_id": "x"}, correlation_id="c"
    )
    with clinic.app.app_context():
        with pytest.raises(PayloadSchemaError):  # a worker admits what publish() accepts
            event_bus.deliver("patient_timeline.on_event", envelope)
        event_bus.configure(validate=False)  # the handler itself skips it too
        try:
            event_bus.deliver("patient_timeline.on_event", envelope)
        finally:
            event_bus.configure(validate=True)
        assert db.session.scalar(select(func.count()).select_from(Entry)) == 0


@pytest.mark.reactions
def test_pagination_and_bad_ids(clinic: Clinic) -> None:
    patient = clinic.create_patient()["id"]
    clinic.schedule(patient)
    everything = clinic.timeline(patient)
    assert len(everything) == 4
    page = clinic.get(f"/timeline/patients/{patient}?limit=2&offset=1")["entries"]
    assert page == everything[1:3]
    assert_error(clinic.call("GET", "/timeline/patients/nope"), 404, "patient_not_found")
    assert_error(
        clinic.call("GET", f"/timeline/patients/{patient}?offset=-1"),
        400,
        "invalid_request",
        {"offset": "must not be negative"},
    )
