"""``/openapi.json`` is generated from the routes' ``@operation``s; ``/docs`` only in debug."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.core.events import event_bus
from tests.support.schema import make_app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'api.db'}"})
    yield app
    event_bus.remove_owned("loader")


def document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def test_the_document_is_openapi_3_1_with_every_route_and_its_errors(app: Flask) -> None:
    spec = document(app)
    assert spec["openapi"] == "3.1.0"
    create = spec["paths"]["/patients"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CreatePatient"
    }
    assert set(create["responses"]) == {"201", "400", "415"}
    archive = spec["paths"]["/patients/{patient_id}/archive"]["post"]
    assert set(archive["responses"]) == {"200", "400", "404", "409", "415"}
    assert archive["parameters"][0] == {
        "name": "patient_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    page = {p["name"]: p for p in spec["paths"]["/patients"]["get"]["parameters"]}
    assert page["per_page"]["schema"]["maximum"] == 100
    assert page["status"]["schema"]["enum"] == ["active", "archived"]
    body = spec["components"]["schemas"]["CreatePatient"]
    assert body["required"] == ["full_name"]
    assert body["additionalProperties"] is False
    assert "/openapi.json" not in spec["paths"] and "/docs" not in spec["paths"]


def test_the_document_validates_against_the_openapi_3_1_schema(app: Flask) -> None:
    from openapi_spec_validator import OpenAPIV31SpecValidator

    spec = document(app)
    assert [error.message for error in OpenAPIV31SpecValidator(spec).iter_errors()] == []
    broken = {**spec, "paths": {"/x": {"get": {"responses": {"200": {}}}}}}  # no description
    assert list(OpenAPIV31SpecValidator(broken).iter_errors())


def test_the_explorer_is_served_in_debug_only_and_loads_nothing_from_elsewhere(
    app: Flask,
) -> None:
    client = app.test_client()
    assert client.get("/docs").status_code == 404
    app.debug = True
    response = client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "openapi.json" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
