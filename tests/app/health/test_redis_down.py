"""Durable by default: with Redis stopped and no outbox setting, every request succeeds, every
event reaches the Streams handlers once Redis is back, and readiness says why it is down.

Before, ``EVENTBUS_OUTBOX`` defaulted to off: with Redis unreachable ``POST /patients``
answered 500 although the patient was committed (a retry made a duplicate), its event was
lost, and ``/health`` answered 200.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import Select, func, select

from app import create_app
from app.core.events import event_bus
from app.core.outbox import EXTENSION, OutboxRelay
from app.db import db
from modules.notifications.models import Message
from modules.patient_timeline.models import Entry
from tests.support.redis_server import delete_prefix, start_redis_server
from tests.support.schema import prepare_database
from transports.redis_streams import drain

REQUESTS = 200


def wait_until(condition: Callable[[], bool], what: str, limit_s: float = 120.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def count(app: Flask, query: Select[Any]) -> int:
    with app.app_context():
        return int(db.session.execute(query).scalar_one())


@pytest.mark.slow
@pytest.mark.redis
def test_redis_stopped_every_request_succeeds_and_every_event_arrives_after(
    tmp_path: Path, key_prefix: str
) -> None:
    assert "FLASK_EVENTBUS_OUTBOX" not in os.environ, "the default is under test"
    server = start_redis_server()
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    prepare_database(url)
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "EVENTBUS_TRANSPORT": "redis-streams",
        "EVENTBUS_REDIS_URL": server.url,
        "EVENTBUS_KEY_PREFIX": key_prefix,
        "EVENTBUS_OUTBOX_POLL_MS": 20,
        "TESTING": True,
    }
    app = create_app(config)
    relay: OutboxRelay = app.extensions[EXTENSION]
    assert relay is not None, "EVENTBUS_OUTBOX=auto turned the outbox on: handlers are remote"
    relay.settings = dataclasses.replace(relay.settings, backoff_base_s=0.05, backoff_max_s=0.5)
    client = app.test_client()
    try:
        assert client.get("/health/ready").status_code == 200
        server.stop()

        statuses = [
            client.post(
                "/patients", json={"full_name": f"Patient {n}", "email": f"p{n}@example.org"}
            ).status_code
            for n in range(REQUESTS)
        ]
        assert statuses == [201] * REQUESTS, "no committed request fails on Redis"
        down = client.get("/health/ready")
        assert down.status_code == 503
        check = down.get_json()["checks"]["transport:redis-streams"]
        assert check == {
            "ok": False,
            "reason": "redis-streams: Redis did not answer (ConnectionError)",
        }
        assert relay.store.stats().backlog == REQUESTS

        server = start_redis_server(port=server.port)
        wait_until(lambda: relay.store.stats().backlog == 0, "the relay sent the backlog")
        wait_until(lambda: client.get("/health/ready").status_code == 200, "ready again")
        drain(app)
        created = select(func.count()).select_from(Entry)
        assert count(app, created.where(Entry.event_type == "patient.created")) == REQUESTS
        welcomes = select(func.count()).select_from(Message).where(Message.kind == "welcome")
        assert count(app, welcomes) == REQUESTS
    finally:
        relay.stop()
        for transport in app.extensions["eventbus"].transports.values():
            transport.close()
        event_bus.remove_owned("loader")
        client_ = redis.Redis.from_url(server.url)
        with contextlib.suppress(redis.RedisError):  # the server may be the stopped one
            delete_prefix(client_, f"{key_prefix}*")
        client_.close()
        server.stop()
