"""Both worker commands agree when nothing is routed to them: refuse, or warn and idle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.core.events import ConfigurationError, event_bus
from tests.support.schema import make_app, prepare_database

ROOT = Path(__file__).resolve().parents[3]
COMMANDS = {"worker": "redis-streams", "rq-worker": "rq"}


@pytest.fixture
def unloaded() -> Iterator[None]:
    yield
    event_bus.remove_owned("loader")


def _app(**config: Any) -> Flask:
    return make_app({"TESTING": True, **config})


@pytest.mark.usefixtures("unloaded")
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_worker_with_nothing_routed_to_it_refuses_with_advice(command: str) -> None:
    result = _app().test_cli_runner().invoke(args=["events", command, "--burst"])
    assert result.exit_code == 2, result.output
    transport = COMMANDS[command]
    assert f"no handler is routed to {transport} here" in result.output
    assert f"FLASK_EVENTBUS_TRANSPORT={transport}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("unloaded")
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_with_idle_worker_warn_a_burst_worker_exits_0(command: str) -> None:
    app = _app(EVENTBUS_IDLE_WORKER="warn")
    result = app.test_cli_runner().invoke(args=["events", command, "--burst"])
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("unloaded")
def test_an_unknown_idle_worker_policy_stops_the_app_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match='EVENTBUS_IDLE_WORKER: must be one of "refuse"'):
        _app(EVENTBUS_IDLE_WORKER="sleep")


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_idle_worker_warns_then_stops_on_sigterm(command: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FLASK_EVENTBUS_IDLE_WORKER": "warn",
        "FLASK_LOG_FORMAT": "json",
        "FLASK_LOG_LEVEL": "INFO",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'idle.db'}",
    }
    prepare_database(env["DATABASE_URL"])
    with subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "events", command],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stderr is not None
            line = process.stderr.readline()
            assert '"worker.nothing_routed"' in line, line
            time.sleep(0.3)
            assert process.poll() is None, "it idles"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
