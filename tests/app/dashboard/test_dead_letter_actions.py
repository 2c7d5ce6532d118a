"""Dead letters on the dashboard: show (no payload values), replay and purge, each audited.

The transport's store is a fake of the ``DeadLetterStore`` protocol given to the dashboard
where it asks for stores (``transports.operations.dead_letter_stores``); the browser test
does the same against Redis Streams.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from flask import Flask
from structlog.testing import capture_logs

from app.core.events.dead_letters import DeadLetter
from app.core.events.envelope import Envelope
from app.dashboard import set_authorizer

SECRET = "ada@example.org"


class FakeStore:
    transport = "rq"

    def __init__(self) -> None:
        envelope = Envelope("e1", "patient.created", {"patient_id": "p1", "email": SECRET}, "c1")
        self.letters = {
            "job-1": DeadLetter(
                "job-1", "rq", "patient_timeline.on_event", "RuntimeError: boom",
                "RuntimeError", 3, "2026-12-01T08:00:00Z", envelope, {},
            )
        }  # fmt: skip
        self.replayed: list[str] = []

    def list(self, limit: int = 100) -> Sequence[DeadLetter]:
        return list(self.letters.values())[:limit]

    def get(self, dead_letter_id: str) -> DeadLetter:
        return self.letters[dead_letter_id]

    def replay(self, dead_letter_id: str) -> None:
        self.replayed.append(dead_letter_id)
        del self.letters[dead_letter_id]

    def purge(self, dead_letter_id: str | None = None) -> int:
        return 1 if self.letters.pop(dead_letter_id or "", None) else 0


@pytest.fixture
def dashboard(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> tuple[Flask, FakeStore]:
    store = FakeStore()
    monkeypatch.setattr("transports.operations.dead_letter_stores", lambda config, names: [store])
    app = make_app()
    set_authorizer(app, lambda request: "grace@example.org")
    return app, store


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def test_show_hides_payload_values(dashboard: tuple[Flask, Any]) -> None:
    app, _ = dashboard
    page = app.test_client().get("/eventbus/dead-letters/rq/job-1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "RuntimeError: boom" in html
    assert "<code>email</code>" in html
    assert SECRET not in html
    assert app.test_client().get("/eventbus/dead-letters/rq/nope").status_code == 404
    assert app.test_client().get("/eventbus/dead-letters/streams/job-1").status_code == 404


@pytest.mark.parametrize("action", ["replay", "purge"])
def test_actions_are_logged_with_who_did_them(dashboard: tuple[Flask, Any], action: str) -> None:
    app, store = dashboard
    client = app.test_client()
    token = _token(client.get("/eventbus/dead-letters").get_data(as_text=True))
    with capture_logs() as logs:
        done = client.post(f"/eventbus/dead-letters/rq/job-1/{action}", data={"csrf_token": token})
    assert done.status_code == 303
    assert "notice=" in done.headers["Location"]
    assert store.letters == {}
    assert store.replayed == (["job-1"] if action == "replay" else [])
    audit = [entry for entry in logs if entry["event"].startswith("dashboard.dead_letter_")]
    assert audit == [
        {
            "event": f"dashboard.dead_letter_{'replayed' if action == 'replay' else 'purged'}",
            "who": "grace@example.org",
            "dead_letter_id": "job-1",
            "transport": "rq",
            "handler_id": "patient_timeline.on_event",
            "event_type": "patient.created",
            "event_id": "e1",
            "log_level": "warning",
            "logger": "eventbus.dashboard",
        }
    ]
    listing = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "No dead letters." in listing
