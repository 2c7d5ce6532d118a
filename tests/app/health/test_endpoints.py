"""``/health/live`` and ``/health/ready``: a reason per check, 503 when not ready."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app import migrations
from app.core.events import event_bus
from app.core.events.envelope import Envelope
from app.core.outbox import EXTENSION
from tests.support.schema import make_app


def test_live_answers_and_ready_lists_every_check_with_a_reason() -> None:
    app = make_app({"TESTING": True})
    client = app.test_client()
    assert client.get("/health/live").get_json() == {"status": "live"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.get_json()["checks"]
    body = ready.get_json()
    assert body["status"] == "ok"
    assert body["checks"] == {
        "database": {"ok": True, "reason": "the database answers"},
        "schema": {"ok": True, "reason": "the schema is at head"},
    }
    assert client.get("/health").get_json() == body


def test_ready_is_503_naming_the_branch_when_the_schema_is_behind(tmp_path: Path) -> None:
    app = make_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}", "TESTING": True})
    migrations.downgrade(app, "billing@base")
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["schema"]["ok"] is False
    assert "billing at nothing" in body["checks"]["schema"]["reason"]
    assert "flask --app wsgi db upgrade" in body["checks"]["schema"]["reason"]
    assert body["checks"]["database"]["ok"] is True


def test_ready_fails_on_an_outbox_backlog_older_than_the_limit(tmp_path: Path) -> None:
    app = make_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}",
            "EVENTBUS_OUTBOX": True,
            "EVENTBUS_OUTBOX_RELAY": "none",
            "EVENTBUS_HEALTH_MAX_OUTBOX_AGE_S": 0,
            "TESTING": True,
        }
    )
    client = app.test_client()
    assert client.get("/health/ready").get_json()["checks"]["outbox"] == {
        "ok": True,
        "reason": "the outbox backlog is empty",
    }
    store = app.extensions[EXTENSION].store
    with Session(store.engine) as session, session.begin():
        store.add(
            session, Envelope(id="e1", type="patient.created", payload={}, correlation_id="c")
        )
    check = client.get("/health/ready").get_json()["checks"]["outbox"]
    assert check["ok"] is False
    assert check["reason"].startswith("outbox: 1 unsent, the oldest ")
    assert check["reason"].endswith("(limit 0 s)")
    event_bus.remove_owned("loader")
