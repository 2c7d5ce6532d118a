"""``flask`` commands stop on configuration and connection problems with one short message
and exit status 2 (configuration) or 1 (connection), never a traceback. Before, each of these
printed a 35-60 line traceback (exit status 1)."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from tests.support.flask_cli import run_flask


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _flask(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {**os.environ, "DATABASE_URL": "sqlite://", **env}
    return run_flask(*args, env=variables)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("events", "list"), {"FLASK_LOG_LEVEL": "bogus"}, "LOG_LEVEL: must be one of"),
        (("events", "list"), {"DATABASE_URL": "mysql://u@host/db"}, "flask-eventbus[postgres]"),
        (("events", "stats"), {"FLASK_EVENTBUS_OUTBOX": "no"}, "EVENTBUS_OUTBOX: must be one"),
        (("routes",), {"FLASK_EVENTBUS_OUTBOX_RELAY": "threads"}, "EVENTBUS_OUTBOX_RELAY: must"),
        (
            ("events", "rq-worker", "--burst"),
            {"FLASK_EVENTBUS_TRANSPORT": "rq", "FLASK_EVENTBUS_REDIS_URL": "redis://h/abc"},
            "EVENTBUS_REDIS_URL: has a database (the path) that is not a number",
        ),
    ],
    ids=["log-level", "database-driver", "boolean", "flask-routes", "redis-url"],
)
def test_a_configuration_problem_is_one_message_and_status_2(
    args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    result = _flask(*args, **env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("Error: invalid settings:\n  - "), result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.splitlines()) <= 3


@pytest.mark.slow
def test_an_rq_worker_that_cannot_reach_redis_says_so_with_status_1() -> None:
    result = _flask(
        "events",
        "rq-worker",
        "--burst",
        FLASK_EVENTBUS_TRANSPORT="rq",
        FLASK_EVENTBUS_REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0",
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: Redis cannot be reached: ")
