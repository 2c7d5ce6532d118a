"""One log format per process, in real processes: RQ's own ``rq worker`` and gunicorn.

Each writes lines before the app is built (with the library's own handlers); every line of
their output must be one of the app's JSON log lines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.redis_server import RedisServer
from tests.support.rq_workers import (
    REPO_ROOT,
    app_environment,
    delete_rq_keys,
    rq_worker_command,
    run_worker,
)
from tests.support.walkthrough import upgraded_database

pytestmark = pytest.mark.slow


def json_lines(output: str) -> list[dict[str, object]]:
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines, "the process logged something"
    parsed = []
    for line in lines:
        assert "\x1b" not in line, line
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not one of the app's JSON lines: {line!r}") from None
    return parsed


@pytest.mark.redis
def test_rq_worker_cli_logs_only_app_json_lines(
    real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    env = app_environment(real_redis.url, key_prefix, tmp_path / "w.db")
    command = rq_worker_command(
        real_redis.url, [f"{key_prefix}:eventbus"], extra=["--name", f"{key_prefix}-logs"]
    )
    try:
        result = run_worker(command, env)
    finally:
        import redis

        delete_rq_keys(redis.Redis.from_url(real_redis.url), key_prefix)
    assert result.returncode == 0, result.stdout
    loggers = {line["logger"] for line in json_lines(result.stdout)}
    assert "rq.worker" in loggers


def test_gunicorn_logs_only_app_json_lines(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(
        FLASK_LOG_FORMAT="json",
        FLASK_LOG_LEVEL="INFO",
        DATABASE_URL=upgraded_database(tmp_path / "g.db"),
        PYTHONUNBUFFERED="1",
    )
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    with subprocess.Popen(
        [gunicorn, "--bind", "127.0.0.1:0", "--workers", "1", "wsgi:app"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                line = process.stdout.readline()
                if not line:
                    break
                seen.append(line)
                if "Booting worker" in line:
                    break
            time.sleep(1.0)  # the worker builds the app
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    events = json_lines("".join(seen) + output)
    messages = [str(line["event"]) for line in events]
    assert any(m.startswith("Starting gunicorn") for m in messages), messages
    assert {line["logger"] for line in events} >= {"gunicorn.error"}
