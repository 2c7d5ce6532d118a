"""Bad input never becomes a 500: junk in every field of every writing endpoint."""

from __future__ import annotations

from typing import Any

from tests.modules.clinic import Clinic, future

JUNK: list[Any] = [
    None,
    True,
    -1,
    0,
    10**30,
    1e308,
    "",
    "x" * 5000,
    "\u0000",
    "\ud800",
    [],
    {},
    [{"a": 1}],
    "2035-13-45T99:99:99Z",
    "0" * 32,
]


def sweep(clinic: Clinic, method: str, path: str, valid: dict[str, Any]) -> list[str]:
    """Send ``valid`` with each field replaced by each junk value; list any 5xx."""
    failures = []
    for name in valid:
        for value in JUNK:
            body = {**valid, name: value}
            response = clinic.call(method, path, json=body)
            if response.status_code >= 500:
                failures.append(f"{method} {path} {name}={value!r:.40}: {response.status_code}")
    return failures


def test_no_junk_value_causes_a_server_error(clinic: Clinic) -> None:
    patient = clinic.create_patient()["id"]
    appointment = clinic.schedule(patient)["id"]
    invoice = clinic.issue_invoice(patient)["id"]
    line = {"description": "X", "quantity": 1, "unit_price_cents": 100}
    failures = [
        *sweep(
            clinic,
            "POST",
            "/patients",
            {
                "full_name": "A",
                "email": "a@b.org",
                "phone": "+1 555",
                "date_of_birth": "1990-01-01",
            },
        ),
        *sweep(clinic, "PATCH", f"/patients/{patient}", {"full_name": "B", "phone": None}),
        *sweep(
            clinic,
            "POST",
            "/appointments",
            {"patient_id": patient, "starts_at": future(), "duration_minutes": 30, "reason": "r"},
        ),
        *sweep(clinic, "POST", f"/appointments/{appointment}/reschedule", {"starts_at": future()}),
        *sweep(clinic, "POST", "/invoices", {"patient_id": patient, "lines": [line]}),
        *sweep(clinic, "POST", "/invoices", {"patient_id": patient, "lines": [{**line, "x": 1}]}),
        *sweep(clinic, "POST", f"/invoices/{invoice}/payments", {"amount_cents": 1}),
        *sweep(clinic, "POST", f"/appointments/{appointment}/cancel", {"reason": "r"}),
    ]
    assert failures == []
