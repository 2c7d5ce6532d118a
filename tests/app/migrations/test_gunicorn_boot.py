"""The documented sequence boots every time: ``flask db upgrade``, then ``gunicorn --workers 4``.

Before migrations, each gunicorn worker ran ``create_all`` at import, and on a new database
two of them raced: 4–5 boots of 6 failed on PostgreSQL (``UniqueViolation`` on
``pg_type``), 4 of 6 on a new SQLite file (``table … already exists``). Now no process does
schema work at start; ten boots on a new database each, on both, must all succeed.
"""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app import create_app, migrations
from app.db import db
from tests.app.migrations.processes import FLASK, REPO_ROOT, environment
from tests.support.postgres import postgres_database
from tests.support.redis_server import free_port

BOOTS = 10
WORKERS = 4
BOOT_LIMIT_S = 90.0  # a bound so a hung boot fails the test, not a timing assertion


def gunicorn_binary() -> str:
    return str(Path(FLASK).with_name("gunicorn"))


def upgrade(database_url: str) -> None:
    """What ``flask --app wsgi db upgrade`` runs (``test_start_refusal`` runs the command
    itself), in this process: twenty interpreter starts fewer."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "DATABASE_SCHEMA_CHECK": False, "TESTING": True}
    )
    migrations.upgrade(app)
    with app.app_context():
        db.engine.dispose()


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def boot_once(database_url: str, log: Path) -> str:
    """Run the sequence on ``database_url``; ``""`` when all workers booted and answered."""
    upgrade(database_url)
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                gunicorn_binary(),
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "info",
                "wsgi:app",
            ],
            cwd=REPO_ROOT,
            env=environment(database_url),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + BOOT_LIMIT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return f"gunicorn exited with {process.returncode}: {log.read_text()[-1500:]}"
            text = log.read_text()
            if (
                text.count("Booting worker with pid") >= WORKERS
                and get(f"http://127.0.0.1:{port}/health/live") == 200
            ):
                break
            time.sleep(0.1)
        else:
            return f"no answer within {BOOT_LIMIT_S} s: {log.read_text()[-1500:]}"
        ready = get(f"http://127.0.0.1:{port}/health/ready")
        if ready != 200:
            return f"/health/ready answered {ready}"
        text = log.read_text()
        if "Worker failed to boot" in text or "Exception in worker process" in text:
            return f"a worker failed: {text[-1500:]}"
        return ""
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def fresh_database(kind: str, directory: Path, n: int) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{directory / f'boot-{n}.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_ten_boots_of_gunicorn_with_four_workers_on_a_new_database_all_succeed(
    kind: str, tmp_path: Path
) -> None:
    failures = []
    for n in range(BOOTS):
        with fresh_database(kind, tmp_path, n) as url:
            problem = boot_once(url, tmp_path / f"gunicorn-{n}.log")
        if problem:
            failures.append(f"boot {n}: {problem}")
    assert failures == [], "\n".join(failures)
