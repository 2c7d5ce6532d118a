"""Concurrent writes through a real threaded HTTP server, on SQLite and PostgreSQL.

Twenty clients fire at once (a barrier releases them together) at a werkzeug server running
the clinic with one thread per request, as ``flask run`` does. Each read-modify-write of the
services must serialise: on SQLite, before write units took the write lock at ``BEGIN``
(``BEGIN IMMEDIATE``), 2-8 full payments of one invoice were accepted, 20 payments of 1/20 left
the invoice at 300-900 of 6,000 cents, and 2-5 of 20 cancels of one appointment answered 200.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from app.core.events.testing import EventRecorder
from tests.modules.clinic import Clinic

CLIENTS = 20
TOTAL_CENTS = 6000


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        """No access log: the test reads the answers."""


@contextmanager
def threaded_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port, one thread per request; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(30)
        server.server_close()


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _together(url: str, bodies: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """POST every body to ``url`` from its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(bodies))

    def send(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        barrier.wait(60)
        return _post(url, body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def _invoice(clinic: Clinic) -> str:
    patient = clinic.create_patient()["id"]
    line = {"description": "Consultation", "unit_price_cents": TOTAL_CENTS}
    invoice_id: str = clinic.issue_invoice(patient, line)["id"]
    return invoice_id


@pytest.mark.slow
def test_twenty_full_payments_at_once_accept_exactly_one(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    invoice = _invoice(clinic)
    with threaded_server(clinic.app) as base:
        answers = _together(
            f"{base}/invoices/{invoice}/payments", [{"amount_cents": TOTAL_CENTS}] * CLIENTS
        )
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 409: CLIENTS - 1}, answers
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"invoice_paid"}
    stored = clinic.get(f"/invoices/{invoice}")
    assert (stored["paid_cents"], stored["status"], len(stored["payments"])) == (
        TOTAL_CENTS,
        "paid",
        1,
    )
    assert len(published_events.of_type("invoice.paid")) == 1
    assert len(published_events.of_type("invoice.payment_recorded")) == 1


@pytest.mark.slow
def test_twenty_payments_of_a_twentieth_at_once_all_count(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    invoice = _invoice(clinic)
    with threaded_server(clinic.app) as base:
        answers = _together(
            f"{base}/invoices/{invoice}/payments",
            [{"amount_cents": TOTAL_CENTS // CLIENTS}] * CLIENTS,
        )
    assert [status for status, _ in answers] == [201] * CLIENTS, answers
    stored = clinic.get(f"/invoices/{invoice}")
    assert (stored["paid_cents"], stored["status"], len(stored["payments"])) == (
        TOTAL_CENTS,
        "paid",
        CLIENTS,
    )
    balances = sorted(
        p["balance_cents"] for p in published_events.of_type("invoice.payment_recorded")
    )
    assert balances == [TOTAL_CENTS // CLIENTS * n for n in range(CLIENTS)]
    assert len(published_events.of_type("invoice.paid")) == 1


@pytest.mark.slow
def test_twenty_cancels_at_once_succeed_once(
    clinic: Clinic, published_events: EventRecorder
) -> None:
    appointment = clinic.schedule(clinic.create_patient()["id"])["id"]
    with threaded_server(clinic.app) as base:
        answers = _together(
            f"{base}/appointments/{appointment}/cancel", [{"reason": "Flu"}] * CLIENTS
        )
    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: 1, 409: CLIENTS - 1}, answers
    assert len(published_events.of_type("appointment.cancelled")) == 1
    assert clinic.get(f"/appointments/{appointment}")["status"] == "cancelled"
