"""Uninstall safety: consumers can go; a module others depend on cannot, and says who."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.core.events import ModuleLoadError, event_bus
from app.core.modules.loader import LOADER
from tests.modules.clinic import Clinic, assert_error
from tests.support.schema import make_app


@pytest.mark.reactions
def test_without_notifications_the_app_boots_and_publishers_work(
    make_clinic: Callable[..., Clinic],
) -> None:
    clinic = make_clinic(
        ENABLED_MODULES=["patients", "appointments", "billing", "patient_timeline"]
    )
    assert all(
        not sub.handler_id.startswith("notifications.")
        for sub in event_bus.subscriptions()
        if sub.owner == LOADER
    )
    patient = clinic.create_patient()["id"]
    clinic.schedule(patient)
    invoice = clinic.issue_invoice(patient)["id"]
    clinic.pay(invoice, 12000)
    assert [e["event_type"] for e in clinic.timeline(patient)] == [
        "patient.created",
        "appointment.scheduled",
        "invoice.issued",
        "invoice.payment_recorded",
        "invoice.paid",
    ]
    assert_error(clinic.call("GET", f"/notifications/patients/{patient}"), 404, "not_found")
    assert "notifications" not in clinic.get("/health")["modules"]


def test_with_patients_alone(make_clinic: Callable[..., Clinic]) -> None:
    clinic = make_clinic(ENABLED_MODULES=["patients"])
    patient = clinic.create_patient()
    assert clinic.get(f"/patients/{patient['id']}") == patient
    assert not [sub for sub in event_bus.subscriptions() if sub.owner == LOADER]


def test_without_patients_startup_fails_naming_its_dependents(database_url: str) -> None:
    with pytest.raises(ModuleLoadError) as caught:
        make_app(
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "ENABLED_MODULES": ["appointments", "billing", "notifications", "patient_timeline"],
            }
        )
    message = str(caught.value)
    assert "'patients' is not enabled" in message
    assert "appointments, billing depend on it" in message


def test_health_reports_the_bus_and_the_database(clinic: Clinic, database_url: str) -> None:
    health = clinic.get("/health")
    assert health["status"] == "ok"
    backend = database_url.partition(":")[0].partition("+")[0]
    assert health["database"] == {"backend": backend, "ok": True}
    assert health["bus"]["default_transport"] == "inprocess"
    assert health["bus"]["handlers"] == 7
    assert health["modules"] == [
        "appointments",
        "billing",
        "notifications",
        "patient_timeline",
        "patients",
    ]
