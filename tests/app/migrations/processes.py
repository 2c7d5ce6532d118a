"""Running the real commands (``flask --app wsgi ...``) in subprocesses, as a deploy does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
FLASK = str(Path(sys.executable).with_name("flask"))


def environment(database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment, on ``database_url``, with ``FLASK_<KEY>`` settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(REPO_ROOT), FLASK_LOG_FORMAT="json")
    env.update({f"FLASK_{key}": value for key, value in settings.items()})
    return env


def flask(database_url: str, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """``flask --app wsgi ARGS`` on ``database_url`` (bounded: 120 s)."""
    return subprocess.run(
        [FLASK, "--app", "wsgi", *args],
        cwd=REPO_ROOT,
        env=environment(database_url, **settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
