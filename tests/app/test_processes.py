"""One routing everywhere: each process records its routing in Redis; a worker whose routing
differs from the web app's says so, at start and in ``flask events stats``; workers beat.

Before, a web process and an RQ worker started with different ``EVENTBUS_ROUTES`` routed
``notification.sent`` differently, and nothing said so.
"""

from __future__ import annotations

import runpy
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from flask import Flask

from app.architecture import PROJECT_ROOT
from app.core.events import event_bus
from app.processes import ProcessRecorder, record_process, record_web_start, running_recorders
from tests.support.redis_server import RedisServer, delete_prefix, free_port
from tests.support.schema import make_app

pytestmark = pytest.mark.redis

LIMIT_S = 30.0  # a bound so a hang fails the test; never a timing assertion


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + LIMIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {LIMIT_S:g} s: {what}")
        time.sleep(0.05)


def kinds_on_board(recorder: ProcessRecorder) -> set[str]:
    try:
        return {str(entry.get("kind")) for entry in recorder.board.processes()}
    except Exception:  # Redis slow to answer on a loaded machine: ask again
        return set()


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
    # Both beats were written (build asserts it); wait until the board reads both back, as a
    # loaded Redis may be slow to answer (its errors read as "no processes"): seen once.
    wait_until(lambda: {"web", "rq-worker"} <= kinds_on_board(recorder), "both records")
    differences = recorder.differences_from_web()
    assert differences, "the notifications handlers run on rq here, on redis-streams in web"
    assert all(line.startswith("notifications.") for line in differences)
    assert any(": here rq, there redis-streams" in line for line in differences)

    result = worker.test_cli_runner().invoke(args=["events", "stats"])
    assert result.exit_code == 0, result.output
    output = result.output
    worker_line = next(
        (line for line in output.splitlines() if line.startswith("process rq-worker@")), output
    )
    assert "routing differs from the web app's: notifications." in worker_line
    web_line = next(
        (line for line in output.splitlines() if line.startswith("process web@")), output
    )
    assert web_line.startswith("process web@"), output
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


def test_a_web_process_is_recorded_as_it_starts_serving_not_at_its_first_request(
    build: Any,
) -> None:
    """``gunicorn.conf.py``'s ``post_worker_init`` calls ``record_web_start``: ``flask events
    stats`` right after a deploy lists the web process before any request came."""
    worker, recorder = build("streams-worker")
    web = make_app({**worker.config, "TESTING": True})
    try:
        hooks = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
        hooks["post_worker_init"](SimpleNamespace(wsgi=web))  # as gunicorn calls it
        wait_until(lambda: "web" in kinds_on_board(recorder), "the web record")
        assert record_web_start(web)  # again: nothing more
        started = web.extensions["eventbus_process_web"]
        web.test_client().get("/health/live")  # the first request records nothing more
        assert web.extensions["eventbus_process_web"] is started
    finally:
        web.extensions["eventbus_process_web"].stop()
        for transport in web.extensions["eventbus"].transports.values():
            transport.close()


def test_recording_a_web_start_with_redis_down_neither_waits_nor_fails(tmp_path: Path) -> None:
    app = make_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'down.db'}",
            "EVENTBUS_TRANSPORT": "redis-streams",
            "EVENTBUS_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "EVENTBUS_OUTBOX": False,
            "TESTING": True,
        }
    )
    try:
        assert record_web_start(app)  # the first beat is in the recorder's thread
        assert app.test_client().get("/health/live").status_code == 200
        assert not record_web_start(object())  # not an app of create_app: nothing to record
    finally:
        app.extensions["eventbus_process_web"].stop()
        for transport in app.extensions["eventbus"].transports.values():
            transport.close()
        event_bus.remove_owned("loader")


def test_a_stopped_recorder_is_no_longer_running_and_its_thread_ends(build: Any) -> None:
    _, recorder = build("streams-worker")
    assert recorder in running_recorders()
    assert recorder.stop(wait_s=LIMIT_S), "the beat thread ended"
    assert recorder not in running_recorders()
    assert recorder.stop(), "stopping again: nothing more"


def test_a_command_run_in_process_stops_its_beat_as_it_returns(build: Any) -> None:
    """A test (or a script) running ``flask events worker`` in-process is left with no
    thread beating for it; the command recorded its process while it ran."""
    app, web = build("web")
    result = app.test_cli_runner().invoke(args=["events", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    worker = app.extensions["eventbus_process_streams-worker"]
    assert worker not in running_recorders()
    assert worker.stop(wait_s=LIMIT_S), "the command's beat thread ended"
    assert "streams-worker" in kinds_on_board(web), "recorded while it ran"
