"""The clinic end-to-end harness: an app on a real database and bus, driven over HTTP.

:class:`Clinic` wraps one app built by ``create_app`` with its Flask test client and a
``settle()`` hook. Tests call the API, then read reactions (notifications, timeline) through
helpers that settle first, so the same test passes whichever transport runs the handlers.

How handlers run is a :class:`BusProfile` (see ``conftest.py``, fixture ``bus_profile``):
config overrides plus a context manager that starts whatever consumes events for the app
and yields ``settle``, a callable that returns once every event published so far has been
handled. In-process, ``settle`` is a no-op: handlers ran inside the request. The remote
profiles (Redis Streams, RQ, the outbox) are defined in ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

__all__ = [
    "INPROCESS",
    "STORY_EVENTS",
    "BusProfile",
    "Clinic",
    "Settle",
    "assert_error",
    "future",
]

Settle = Callable[[], None]


@contextmanager
def _no_workers(app: Flask, request: pytest.FixtureRequest) -> Iterator[Settle]:
    yield lambda: None


@dataclass(frozen=True)
class BusProfile:
    """How the e2e suite runs handlers.

    ``config(request)`` returns ``create_app`` overrides (e.g. ``EVENTBUS_TRANSPORT``, a
    ``EVENTBUS_KEY_PREFIX`` from the ``key_prefix`` fixture via ``request.getfixturevalue``).
    ``running(app, request)`` is a context manager entered after the app is built: start
    workers (threads or processes you stop by pid) and yield ``settle``, which MUST return
    only when every event published so far has been handled (or raise when a handler
    dead-lettered). ``synchronous`` says whether handler errors surface in the request.
    ``handlers_in_process``: whether handlers run in the test's process (so a test may swap
    the app's notifications sender or read the handlers' logs). ``database(request)``, when
    set, names the database the profile's worker processes use: the tests' apps use it too
    (its rows are deleted after each test) instead of a database of their own.
    """

    name: str
    config: Callable[[pytest.FixtureRequest], dict[str, Any]] = field(default=lambda request: {})
    running: Callable[[Flask, pytest.FixtureRequest], AbstractContextManager[Settle]] = _no_workers
    synchronous: bool = True
    handlers_in_process: bool = True
    database: Callable[[pytest.FixtureRequest], str] | None = None


STORY_EVENTS = (
    "patient.created",
    "appointment.scheduled",
    "appointment.rescheduled",
    "appointment.cancelled",
    "appointment.scheduled",
    "appointment.completed",
    "invoice.issued",
    "invoice.payment_recorded",
    "invoice.payment_recorded",
    "invoice.paid",
    "patient.updated",
    "patient.archived",
)
"""What :meth:`Clinic.story` publishes from its requests, in order."""

INPROCESS = BusProfile("inprocess")
"""Handlers run inside ``publish()``; nothing to start; ``settle`` does nothing."""


def _nothing() -> None:
    """``settle`` when there is nothing to wait for."""


def future(days: int = 30, hour: int = 9) -> str:
    """An instant ``days`` from now at ``hour``:00 UTC, as the API accepts it."""
    moment = (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    return moment.isoformat().replace("+00:00", "Z")


def assert_error(
    response: TestResponse, status: int, code: str, fields: dict[str, str] | None = None
) -> dict[str, Any]:
    """Assert a JSON error response: status, code, and (when given) exactly these fields."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.get_data(as_text=True)
    body = response.get_json()
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    if fields is not None:
        assert error.get("fields") == fields, error
    return error


@dataclass
class Clinic:
    """One running clinic app: HTTP helpers that assert status codes, and ``settle``."""

    app: Flask
    client: FlaskClient
    settle: Settle

    def call(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        """A raw request (assert on the response yourself)."""
        return self.client.open(path, method=method, **kwargs)

    def post(self, path: str, json: Any = None, expect: int = 201) -> dict[str, Any]:
        """POST JSON (no body when ``json`` is None) and return the JSON response."""
        response = self.client.post(path, json=json) if json is not None else self.client.post(path)
        return self._checked(response, expect)

    def patch(self, path: str, json: Any, expect: int = 200) -> dict[str, Any]:
        """PATCH JSON and return the JSON response."""
        return self._checked(self.client.patch(path, json=json), expect)

    def get(self, path: str, expect: int = 200) -> dict[str, Any]:
        """GET and return the JSON response."""
        return self._checked(self.client.get(path), expect)

    def create_patient(self, **fields: Any) -> dict[str, Any]:
        """Register a patient (Ada Lovelace with an e-mail address unless overridden)."""
        body = {"full_name": "Ada Lovelace", "email": "ada@example.org", **fields}
        return self.post("/patients", body)

    def schedule(self, patient_id: str, **fields: Any) -> dict[str, Any]:
        """Book an appointment 30 days ahead unless ``starts_at`` is given."""
        body = {"patient_id": patient_id, "starts_at": future(), **fields}
        return self.post("/appointments", body)

    def issue_invoice(self, patient_id: str, *lines: dict[str, Any]) -> dict[str, Any]:
        """Issue an invoice (one 120.00 EUR consultation unless lines are given)."""
        chosen = list(lines) or [{"description": "Consultation", "unit_price_cents": 12000}]
        return self.post("/invoices", {"patient_id": patient_id, "lines": chosen})

    def pay(self, invoice_id: str, amount_cents: int, expect: int = 201) -> dict[str, Any]:
        """Record a payment."""
        return self.post(f"/invoices/{invoice_id}/payments", {"amount_cents": amount_cents}, expect)

    def notifications(self, patient_id: str) -> list[dict[str, Any]]:
        """The patient's messages, after settling."""
        self.settle()
        items: list[dict[str, Any]] = self.get(f"/notifications/patients/{patient_id}")["items"]
        return items

    def timeline(self, patient_id: str) -> list[dict[str, Any]]:
        """The patient's timeline entries, after settling."""
        self.settle()
        entries: list[dict[str, Any]] = self.get(f"/timeline/patients/{patient_id}")["entries"]
        return entries

    def story(self, settle_each: bool = False) -> dict[str, str]:
        """Drive one patient through every endpoint that publishes; return the ids made.

        Publishes, in this order, the events in :data:`STORY_EVENTS` (reactions aside). With
        ``settle_each``, each request's reactions are handled before the next request, so
        reactions interleave with requests as they do in-process; otherwise remote workers
        may handle them later, in any order across handlers.
        """
        step = self.settle if settle_each else _nothing
        patient = self.create_patient()["id"]
        step()
        appointment = self.schedule(patient, starts_at=future(days=7))["id"]
        step()
        self.post(f"/appointments/{appointment}/reschedule", {"starts_at": future(8)}, 200)
        step()
        self.post(f"/appointments/{appointment}/cancel", {"reason": "Flu"}, 200)
        step()
        second = self.schedule(patient, starts_at=future(days=9))["id"]
        step()
        self.post(f"/appointments/{second}/complete", expect=200)
        step()
        invoice = self.issue_invoice(patient)["id"]
        step()
        self.pay(invoice, 5000)
        step()
        self.pay(invoice, 7000)
        step()
        self.patch(f"/patients/{patient}", {"email": "ada@analytical.example"})
        step()
        self.post(f"/patients/{patient}/archive", expect=200)
        step()
        return {"patient": patient, "appointment": appointment, "invoice": invoice}

    def _checked(self, response: TestResponse, expect: int) -> dict[str, Any]:
        assert response.status_code == expect, (
            response.status_code,
            response.get_data(as_text=True),
        )
        body: dict[str, Any] = response.get_json()
        return body
