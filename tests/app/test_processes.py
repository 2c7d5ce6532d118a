"""One routing everywhere: each process records its routing in Redis; a worker whose routing
differs from the web app's says so, at start and in ``flask events stats``; workers beat.

Before, a web process and an RQ worker started with different ``EVENTBUS_ROUTES`` routed
``notification.sent`` differently, and nothing said so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from app.core.events import event_bus
from app.processes import ProcessRecorder, record_process
from tests.support.redis_server import RedisServer, delete_prefix
from tests.support.schema import make_app

pytestmark = pytest.mark.redis


@pytest.fixture
def build(real_redis: RedisServer, key_prefix: str, tmp_path: Path) -> Iterator[Any]:
    recorders: list[ProcessRecorder] = []
    apps: list[Flask] = []

    def make(kind: str, **config: Any) -> tuple[Flask, ProcessRecorder]:
        app = make_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
                "EVENTBUS_TRANSPORT": "redis-streams",
                "EVENTBUS_REDIS_URL": real_redis.url,
                "EVENTBUS_KEY_PREFIX": key_prefix,
                "EVENTBUS_OUTBOX": False,
                "TESTING": True,
                **config,
            }
        )
        apps.append(app)
        recorder = record_process(app, kind)
        assert recorder is not None
        assert recorder.beat()  # a web process's first beat is in its thread: not waited on
        recorders.append(recorder)
        return app, recorder

    yield make
    for recorder in recorders:
        recorder.stop()
    for app in apps:
        for transport in app.extensions["eventbus"].transports.values():
            transport.close()
    event_bus.remove_owned("loader")
    client = redis.Redis.from_url(real_redis.url)
    delete_prefix(client, f"{key_prefix}*")
    client.close()


def test_a_worker_routed_otherwise_than_the_web_app_says_so_in_stats(build: Any) -> None:
    build("web")
    worker, recorder = build("rq-worker", EVENTBUS_ROUTES={"notifications.*": "rq"})
    differences = recorder.differences_from_web()
    assert differences, "the notifications handlers run on rq here, on redis-streams in web"
    assert all(line.startswith("notifications.") for line in differences)
    assert any(": here rq, there redis-streams" in line for line in differences)

    output = worker.test_cli_runner().invoke(args=["events", "stats"]).output
    worker_line = next(
        line for line in output.splitlines() if line.startswith("process rq-worker@")
    )
    assert "routing differs from the web app's: notifications." in worker_line
    web_line = next(line for line in output.splitlines() if line.startswith("process web@"))
    assert "differs" not in web_line


def test_the_same_settings_give_the_same_fingerprint(build: Any) -> None:
    _, web = build("web")
    _, worker = build("streams-worker")
    assert worker.record["fingerprint"] == web.record["fingerprint"]
    assert worker.differences_from_web() == []


def test_flask_events_health_answers_for_a_live_worker_only(build: Any) -> None:
    app, _ = build("streams-worker")
    runner = app.test_cli_runner()
    alive = runner.invoke(args=["events", "health", "streams-worker"])
    assert alive.exit_code == 0, alive.output
    assert "streams-worker on " in alive.output and "alive, last beat" in alive.output
    missing = runner.invoke(args=["events", "health", "relay"])
    assert missing.exit_code == 1
    assert missing.output.strip().endswith("not alive (no record; limit 30 s)")
