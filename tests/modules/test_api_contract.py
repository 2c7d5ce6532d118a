"""The HTTP API against its own OpenAPI document: schemathesis fuzzes every operation.

For each operation of ``/openapi.json`` hypothesis draws requests from the document (bounded:
``EXAMPLES`` per operation, valid ones and ones that break the document on purpose), half of
them aimed at rows that exist (a patient, an appointment, an invoice, a message made first:
path ids and a body's ``patient_id``), and schemathesis checks each response: never a 5xx, a
status code the document lists, the declared content type, a body matching the declared
schema, and every request that breaks the document refused with a 4xx. Runs on SQLite and
PostgreSQL (the in-process setups of ``clinic``).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.http import operation_of
from app.core.validation import is_id
from tests.modules.clinic import Clinic

EXAMPLES = 12
SKIP = {"HEAD", "OPTIONS"}
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
)


def known_ids(clinic: Clinic) -> dict[str, str]:
    patient = clinic.create_patient()["id"]
    (message,) = clinic.notifications(patient)
    return {
        "patient_id": patient,
        "appointment_id": clinic.schedule(patient)["id"],
        "invoice_id": clinic.issue_invoice(patient)["id"],
        "notification_id": message["id"],
    }


def api_routes(clinic: Clinic) -> list[tuple[str, str]]:
    """Every (method, rule) of the modules' blueprints and /health; each must be documented."""
    app = clinic.app
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in {*app.extensions["modules"], "health"}:
            continue
        assert operation_of(app.view_functions[rule.endpoint]) is not None, rule.rule
        routes += [(method, rule.rule) for method in rule.methods or () if method not in SKIP]
    return routes


@pytest.mark.slow
def test_every_operation_keeps_to_the_document(clinic: Clinic) -> None:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", clinic.app)
    ids = known_ids(clinic)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) == len(api_routes(clinic))  # every endpoint, not a subset
    failures: list[str] = []
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=cases, aim=st.booleans())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any, aim: bool) -> None:
            if aim and case.path_parameters:
                case.path_parameters = {
                    name: ids.get(name, value) for name, value in case.path_parameters.items()
                }
            if aim and isinstance(case.body, dict) and is_id(case.body.get("patient_id")):
                case.body = {**case.body, "patient_id": ids["patient_id"]}  # a row that exists
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert failures == [], "\n\n".join(failures)
