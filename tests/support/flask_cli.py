"""Running the ``flask`` command as a user does, for tests that check what it prints."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["REPO_ROOT", "run_flask"]

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_flask(
    *arguments: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``flask --app wsgi ARGUMENTS`` in the repository root with exactly ``env``; its exit
    status, stdout and stderr (text) are the caller's to check. Raises
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds (a hung command fails its test)."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *arguments],
        cwd=REPO_ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
