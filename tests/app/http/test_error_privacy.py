"""Hostile and invalid requests: error bodies name the field and the problem, never a value,
and no value the client sent reaches the logs.

A marker is put in every value of every request: bodies that fail validation (wrong format,
wrong type, too long, unknown field, nested where text is expected), bodies that are not JSON
or not UTF-8, a 409 on an archived patient, 404s with the marker in the path, 400s with it in
the query string. They go through a real werkzeug server (its request lines are logged, as
``flask run`` logs them) with JSON logs captured. Two test-only routes fail unexpectedly, with
the marker in the message: ``raise ValueError(f"bad {email}")`` and a PostgreSQL CHECK
violation (``DETAIL: Failing row contains (...)``, parameters not hidden) on a database the
test creates and drops: 500 ``internal_error``, logged as ``request.failed`` redacted.

What a user expects: a validation error names each field in error and what is wrong with it
(``{"email": "must be an e-mail address"}``); the field names are the API's, the value is
never repeated (the client has it; a log or a proxy that keeps bodies should not). The marker
appears 0 times in the error bodies and in the logs; outside the query string and path (the
request line a server logs is the client's URL, whose query the clinic never uses for
personal data) it appears in no log line either.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from app.core.http import json_body
from app.log import configure_logging
from tests.support.postgres import postgres_database
from tests.support.schema import make_app

pytestmark = pytest.mark.postgres

MARKER = "canary3Hp"
EMAIL = f"{MARKER}@example.org"


@contextmanager
def threaded_server(app: Flask) -> Iterator[str]:
    """``app`` on a free loopback port, werkzeug's request log on; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(30)
        server.server_close()


def send(
    base: str, method: str, path: str, body: bytes | None = None, content_type: str = ""
) -> tuple[int, str]:
    headers = {"Content-Type": content_type} if content_type else {}
    req = urllib.request.Request(base + path, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


@pytest.fixture
def people_pg() -> Iterator[sa.Engine]:
    with postgres_database() as url:
        engine = sa.create_engine(url, hide_parameters=False)
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE TABLE people (email TEXT, name TEXT"
                    " CONSTRAINT people_name_short CHECK (length(name) < 4))"
                )
            )
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def clinic(tmp_path: Path, people_pg: sa.Engine) -> Flask:
    app = make_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'clinic.db'}", "LOG_FORMAT": "json"})

    def boom() -> Any:
        raise ValueError(f"bad {json_body()['email']}")

    def constraint() -> Any:
        body = json_body()
        with people_pg.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO people VALUES (:email, :name)"),
                {"email": body["email"], "name": body["full_name"]},
            )
        return {}

    app.add_url_rule("/canary/boom", "canary_boom", boom, methods=["POST"])
    app.add_url_rule("/canary/constraint", "canary_constraint", constraint, methods=["POST"])
    app.add_url_rule("/canary/early", "canary_early", _fails_before_reading, methods=["POST"])
    return app


def test_error_bodies_and_logs_hold_no_value_the_client_sent(
    clinic: Flask, capfd: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG", "json")  # to this test's captured stderr
    try:
        bodies, request_lines = _exercise(clinic)
    finally:
        with capfd.disabled():
            configure_logging("INFO", "json")
    captured = capfd.readouterr()
    logs = [line for line in (captured.out + captured.err).splitlines() if line.strip()]
    failures = [json.loads(line) for line in logs if '"request.failed"' in line]
    assert [(f["error_class"], f["path"]) for f in failures] == [
        ("ValueError", "/canary/boom"),
        ("IntegrityError", "/canary/constraint"),
    ], logs
    assert failures[0]["error"] == "ValueError: bad [redacted]"
    assert failures[1]["error"].endswith("SQLSTATE 23514, constraint people_name_short")
    assert "boom" in failures[0]["stack"], "the frames are logged"
    leaks = [body for body in bodies if MARKER in body]
    assert leaks == [], leaks
    logged = [line for line in logs if not any(path in line for path in request_lines)]
    assert any("werkzeug" in line for line in logs), "the request lines were captured"
    leaked_logs = [line for line in logged if MARKER in line]
    assert leaked_logs == [], leaked_logs


def _exercise(app: Flask) -> tuple[list[str], list[str]]:
    """Send every hostile request; return the error bodies and the URLs holding the marker
    (the request lines werkzeug logs for them are the client's own URL, left out)."""
    bodies: list[str] = []
    marked_paths: list[str] = []
    with threaded_server(app) as base:
        status, text = send(base, "POST", "/patients", as_json({"full_name": "Ada"}), JSON)
        assert status == 201, text
        patient = json.loads(text)["id"]
        assert send(base, "POST", f"/patients/{patient}/archive")[0] == 200
        for method, path, body, content_type, expected, fields in _cases(patient):
            status, text = send(base, method, path, body, content_type)
            assert status == expected, (path, body, text)
            error = json.loads(text)["error"]
            assert error.get("fields", {}) == fields, (path, body, error)
            bodies.append(text)
            if MARKER in path:
                marked_paths.append(path)
    return bodies, marked_paths


JSON = "application/json"


def _cases(patient: str) -> list[tuple[str, str, bytes | None, str, int, dict[str, str]]]:
    name = f"Ada {MARKER}"
    return [
        ("POST", "/patients", as_json({"full_name": name, "email": f"{MARKER} at x"}), JSON,
         400, {"email": "must be an e-mail address"}),
        ("POST", "/patients", as_json({"full_name": 7, "email": EMAIL, "phone": MARKER}), JSON,
         400, {"full_name": "must be a string", "phone": "has the wrong format"}),
        ("POST", "/patients", as_json({"full_name": name, "date_of_birth": MARKER}), JSON,
         400, {"date_of_birth": "must be a valid date, YYYY-MM-DD"}),
        ("POST", "/patients", as_json({"full_name": name, "notes": MARKER}), JSON,
         400, {"notes": "is not a known field"}),
        ("POST", "/patients", as_json({"full_name": {"first": MARKER}}), JSON,
         400, {"full_name": "must be a string"}),
        ("POST", "/patients", as_json({"full_name": MARKER * 40}), JSON,
         400, {"full_name": "must be at most 200 characters"}),
        ("POST", "/patients", as_json([MARKER]), JSON, 400, {}),
        ("POST", "/patients", b'{"full_name": "' + MARKER.encode() + b'", ', JSON, 400, {}),
        ("POST", "/patients", b'{"full_name": "\xff' + MARKER.encode() + b'"}', JSON, 400, {}),
        ("POST", "/patients", f"full_name={MARKER}".encode(),
         "application/x-www-form-urlencoded", 415, {}),
        ("PATCH", f"/patients/{patient}", as_json({"email": EMAIL, "full_name": name}), JSON,
         409, {}),
        ("PATCH", f"/patients/{MARKER}", as_json({"email": EMAIL}), JSON, 404, {}),
        ("GET", f"/patients?page={MARKER}&status={MARKER}", None, "",
         400, {"page": "must be an integer", "status": "must be one of: active, archived"}),
        ("POST", "/invoices", as_json({"patient_id": MARKER, "lines": [
            {"description": MARKER, "quantity": -1}]}), JSON,
         400, {"lines[0].quantity": "must not be negative",
               "lines[0].unit_price_cents": "is required",
               "patient_id": "must be an id (32 hexadecimal characters)"}),
        ("POST", "/invoices", as_json({"patient_id": patient, "lines": [
            {"description": MARKER, "quantity": 1, "unit_price_cents": 100}]}), JSON, 409, {}),
        ("POST", "/canary/boom", as_json({"email": EMAIL}), JSON, 500, {}),
        ("POST", "/canary/constraint", as_json({"email": EMAIL, "full_name": name}), JSON,
         500, {}),
    ]  # fmt: skip


def test_a_body_too_deep_to_parse_still_gets_its_error_logged(clinic: Flask) -> None:
    """A view failing before it reads a body nested past the parser's depth: the error
    handler's own look at the body (the strings to redact) must not fail too."""
    from structlog.testing import capture_logs

    deep = "[" * 100_000 + "]" * 100_000
    client = clinic.test_client()
    with capture_logs() as logs:
        response = client.post("/canary/early", data=deep, content_type="application/json")
    assert response.status_code == 500
    assert [(entry["event"], entry["error"]) for entry in logs] == [
        ("request.failed", "RuntimeError: failed before reading the body")
    ]
    assert client.post("/canary/boom", data=deep, content_type="application/json").status_code == (
        400
    ), "a view that reads it refuses it (malformed_json): never a 500"


def _fails_before_reading() -> Any:
    raise RuntimeError("failed before reading the body")
