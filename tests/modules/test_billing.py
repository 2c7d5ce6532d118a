"""Billing over HTTP: invoices with lines, partial and full payments, every bad input."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.events.testing import EventRecorder
from tests.modules.clinic import Clinic, assert_error

MISSING_ID = "0" * 32


@pytest.fixture
def patient(clinic: Clinic) -> dict[str, Any]:
    return clinic.create_patient()


@pytest.mark.reactions
def test_issue_totals_the_lines_and_publishes(
    clinic: Clinic, patient: dict[str, Any], published_events: EventRecorder
) -> None:
    invoice = clinic.issue_invoice(
        patient["id"],
        {"description": "Consultation", "unit_price_cents": 6000},
        {"description": "X-ray", "quantity": 2, "unit_price_cents": 2550},
    )
    assert (invoice["total_cents"], invoice["balance_cents"], invoice["status"]) == (
        11100,
        11100,
        "issued",
    )
    assert invoice["currency"] == "EUR"
    assert [line["amount_cents"] for line in invoice["lines"]] == [6000, 5100]
    assert published_events.of_type("invoice.issued") == [
        {
            "invoice_id": invoice["id"],
            "patient_id": patient["id"],
            "currency": "EUR",
            "total_cents": 11100,
            "line_count": 2,
        }
    ]


def test_read_and_list(clinic: Clinic, patient: dict[str, Any]) -> None:
    first = clinic.issue_invoice(patient["id"])
    second = clinic.post(
        "/invoices",
        {
            "patient_id": patient["id"],
            "currency": "GBP",
            "lines": [{"description": "Dressing", "unit_price_cents": 900}],
        },
    )
    assert clinic.get(f"/invoices/{first['id']}") == first
    assert second["currency"] == "GBP"
    listed = clinic.get(f"/invoices?patient_id={patient['id']}")["items"]
    assert {invoice["id"] for invoice in listed} == {first["id"], second["id"]}
    assert clinic.get(f"/invoices?patient_id={MISSING_ID}")["items"] == []


@pytest.mark.reactions
def test_partial_then_full_payment(
    clinic: Clinic, patient: dict[str, Any], published_events: EventRecorder
) -> None:
    invoice = clinic.issue_invoice(patient["id"])
    first = clinic.pay(invoice["id"], 5000)
    assert first["payment"]["amount_cents"] == 5000
    assert (first["invoice"]["status"], first["invoice"]["balance_cents"]) == (
        "partially_paid",
        7000,
    )
    published_events.assert_not_published("invoice.paid")
    second = clinic.post(
        f"/invoices/{invoice['id']}/payments", {"amount_cents": 7000, "method": "cash"}
    )
    assert (second["invoice"]["status"], second["invoice"]["balance_cents"]) == ("paid", 0)
    assert second["invoice"]["paid_at"]
    assert [p["method"] for p in second["invoice"]["payments"]] == ["card", "cash"]
    recorded = published_events.of_type("invoice.payment_recorded")
    assert [(r["amount_cents"], r["balance_cents"]) for r in recorded] == [(5000, 7000), (7000, 0)]
    assert recorded[1]["payment_id"] == second["payment"]["id"]
    assert published_events.of_type("invoice.paid") == [
        {
            "invoice_id": invoice["id"],
            "patient_id": patient["id"],
            "currency": "EUR",
            "amount_cents": 12000,
        }
    ]


@pytest.mark.reactions
def test_payment_in_one_go(clinic: Clinic, patient: dict[str, Any]) -> None:
    invoice = clinic.issue_invoice(patient["id"])
    assert clinic.pay(invoice["id"], 12000)["invoice"]["status"] == "paid"


# -- conflicts ---------------------------------------------------------------------------------


def test_paying_more_than_is_owed_is_409(
    clinic: Clinic, patient: dict[str, Any], published_events: EventRecorder
) -> None:
    invoice = clinic.issue_invoice(patient["id"])
    clinic.pay(invoice["id"], 10000)
    published_events.clear()
    error = assert_error(
        clinic.call("POST", f"/invoices/{invoice['id']}/payments", json={"amount_cents": 2001}),
        409,
        "overpayment",
    )
    assert "2000" in error["message"]
    assert clinic.get(f"/invoices/{invoice['id']}")["paid_cents"] == 10000
    assert len(published_events) == 0


def test_paying_a_paid_invoice_is_409(clinic: Clinic, patient: dict[str, Any]) -> None:
    invoice = clinic.issue_invoice(patient["id"])
    clinic.pay(invoice["id"], 12000)
    response = clinic.call("POST", f"/invoices/{invoice['id']}/payments", json={"amount_cents": 1})
    assert_error(response, 409, "invoice_paid")


def test_no_invoice_for_an_archived_patient(clinic: Clinic, patient: dict[str, Any]) -> None:
    clinic.post(f"/patients/{patient['id']}/archive", expect=200)
    body = {"patient_id": patient["id"], "lines": [{"description": "X", "unit_price_cents": 1}]}
    assert_error(clinic.call("POST", "/invoices", json=body), 409, "patient_archived")


def test_unknown_patient_and_invoice_are_404(clinic: Clinic) -> None:
    body = {"patient_id": MISSING_ID, "lines": [{"description": "X", "unit_price_cents": 1}]}
    assert_error(clinic.call("POST", "/invoices", json=body), 404, "patient_not_found")
    for invoice_id in (MISSING_ID, "x"):
        assert_error(clinic.call("GET", f"/invoices/{invoice_id}"), 404, "invoice_not_found")
        response = clinic.call(
            "POST", f"/invoices/{invoice_id}/payments", json={"amount_cents": 100}
        )
        assert_error(response, 404, "invoice_not_found")


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"lines": []}, {"lines": "must not be empty"}),
        ({"lines": "one"}, {"lines": "must be a list"}),
        ({"lines": [7]}, {"lines[0]": "must be an object"}),
        (
            {"lines": [{"description": "X", "unit_price_cents": -100}]},
            {"lines[0].unit_price_cents": "must not be negative"},
        ),
        (
            {"lines": [{"description": "X", "unit_price_cents": 100, "quantity": -1}]},
            {"lines[0].quantity": "must not be negative"},
        ),
        (
            {"lines": [{"description": "X", "unit_price_cents": 100, "quantity": 0}]},
            {"lines[0].quantity": "must be greater than zero"},
        ),
        (
            {"lines": [{"description": "X", "unit_price_cents": 12.5}]},
            {"lines[0].unit_price_cents": "must be an integer"},
        ),
        (
            {"lines": [{"unit_price_cents": 1, "vat": 21}]},
            {"lines[0].description": "is required", "lines[0].vat": "is not a known field"},
        ),
        (
            {"lines": [{"description": "X", "unit_price_cents": 1}, {"description": 5}]},
            {
                "lines[1].description": "must be a string",
                "lines[1].unit_price_cents": "is required",
            },
        ),
        (
            {"lines": [{"description": "Free", "unit_price_cents": 0}]},
            {"lines": "the invoice total must be greater than zero"},
        ),
        ({"currency": "euro"}, {"currency": "must be at most 3 characters"}),
        ({"currency": "eur"}, {"currency": "has the wrong format"}),
        ({"patient_id": None}, {"patient_id": "must not be null"}),
        ({"discount": 5}, {"discount": "is not a known field"}),
    ],
)
def test_issue_rejects_invalid_fields(
    clinic: Clinic,
    patient: dict[str, Any],
    published_events: EventRecorder,
    change: dict[str, Any],
    fields: dict[str, str],
) -> None:
    published_events.clear()
    body = {
        "patient_id": patient["id"],
        "lines": [{"description": "Consultation", "unit_price_cents": 100}],
        **change,
    }
    assert_error(clinic.call("POST", "/invoices", json=body), 400, "invalid_request", fields)
    assert len(published_events) == 0
    assert clinic.get("/invoices")["items"] == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"amount_cents": -500}, {"amount_cents": "must not be negative"}),
        ({"amount_cents": 0}, {"amount_cents": "must be greater than zero"}),
        ({"amount_cents": "50"}, {"amount_cents": "must be an integer"}),
        ({"amount_cents": 10**20}, {"amount_cents": "must be at most 100000000000"}),
        ({}, {"amount_cents": "is required"}),
        (
            {"amount_cents": 100, "method": "cheque"},
            {"method": "must be one of: card, cash, transfer"},
        ),
    ],
)
def test_payment_rejects_invalid_fields(
    clinic: Clinic, patient: dict[str, Any], body: dict[str, Any], fields: dict[str, str]
) -> None:
    invoice = clinic.issue_invoice(patient["id"])
    response = clinic.call("POST", f"/invoices/{invoice['id']}/payments", json=body)
    assert_error(response, 400, "invalid_request", fields)
    assert clinic.get(f"/invoices/{invoice['id']}")["payments"] == []


def test_non_json_bodies_are_415(clinic: Clinic, patient: dict[str, Any]) -> None:
    invoice = clinic.issue_invoice(patient["id"])
    assert_error(clinic.call("POST", "/invoices", data="x"), 415, "unsupported_media_type")
    response = clinic.call("POST", f"/invoices/{invoice['id']}/payments", data="amount=1")
    assert_error(response, 415, "unsupported_media_type")
