"""``flask events asyncapi``: the AsyncAPI 3.0 document of the events, valid and committed fresh."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from flask import Flask

from app import __version__
from app.architecture import PROJECT_ROOT, analyse
from app.architecture.asyncapi import ASYNCAPI_PATH, asyncapi_document, render_asyncapi
from app.core.events import EventType, event_bus
from app.core.events.payloads import DECLARED_PAYLOADS
from tests.support.schema import make_app

SCHEMA = Path(__file__).parents[2] / "support" / "asyncapi" / "asyncapi-3.0.0.schema.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document(analyse("modules"), __version__)


@pytest.fixture
def clinic_app(tmp_path: Path) -> Iterator[Flask]:
    yield make_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}"})
    event_bus.remove_owned("loader")


def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_the_committed_document_validates_against_the_asyncapi_3_schema() -> None:
    committed = yaml.safe_load((PROJECT_ROOT / ASYNCAPI_PATH).read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(committed)]
    assert errors == []
    assert committed["asyncapi"] == "3.0.0"


def test_the_schema_does_reject_a_broken_document(document: dict[str, Any]) -> None:
    broken = {**document, "channels": {"patient.created": {"address": 7}}}
    assert not validator().is_valid(broken)


def test_the_committed_document_is_fresh() -> None:
    committed = (PROJECT_ROOT / ASYNCAPI_PATH).read_text(encoding="utf-8")
    assert committed == render_asyncapi(analyse("modules"), __version__), (
        f"{ASYNCAPI_PATH} is stale: run `flask --app wsgi events asyncapi`"
    )


def test_one_channel_per_event_with_its_stream_key_message_and_version(
    document: dict[str, Any],
) -> None:
    assert set(document["channels"]) == {str(member) for member in EventType}
    channel = document["channels"]["appointment.scheduled"]
    assert channel["address"] == "{prefix}:stream:appointment.scheduled"
    assert document["components"]["parameters"]["prefix"]["default"] == "eventbus"
    message = document["components"]["messages"]["AppointmentScheduled"]
    assert message["name"] == "appointment.scheduled"
    headers = message["headers"]["properties"]
    assert headers["version"]["const"] == DECLARED_PAYLOADS["appointment.scheduled"].version
    assert {"id", "type", "occurred_at", "producer", "correlation_id", "causation_id"} <= set(
        headers
    )
    payload = document["components"]["schemas"]["AppointmentScheduled"]
    assert payload["properties"]["starts_at"] == {
        "format": "date-time",
        "title": "Starts At",
        "type": "string",
    }
    assert payload["additionalProperties"] is False


def test_publishers_and_subscribers_per_module(document: dict[str, Any]) -> None:
    operations = document["operations"]
    send = operations["patients.publishes.patient.created"]
    assert send["action"] == "send"
    assert send["channel"] == {"$ref": "#/channels/patient.created"}
    receive = operations["notifications.consumes.patient.created"]
    assert receive["action"] == "receive"
    assert "`notifications.on_patient_created`" in receive["description"]
    assert "inprocess" in receive["description"]
    timeline = operations["patient_timeline.consumes.invoice.paid"]
    assert "subscribed as `*`" in timeline["description"]


def test_the_command_writes_and_checks(clinic_app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "asyncapi.yaml"
    runner = clinic_app.test_cli_runner()
    result = runner.invoke(args=["events", "asyncapi", "--check", "--output", str(path)])
    assert result.exit_code == 1 and "does not exist" in result.output
    result = runner.invoke(args=["events", "asyncapi", "--output", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        runner.invoke(args=["events", "asyncapi", "--check", "--output", str(path)]).exit_code == 0
    )
    path.write_text(path.read_text().replace("const: 1", "const: 2", 1))
    result = runner.invoke(args=["events", "asyncapi", "--check", "--output", str(path)])
    assert result.exit_code == 1
    assert "is stale" in result.output and "flask --app wsgi events asyncapi" in result.output
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = runner.invoke(args=["events", "asyncapi", "--output", str(blocker / "x.yaml")])
    assert result.exit_code == 1
    assert "cannot write" in result.output and "Traceback" not in result.output
