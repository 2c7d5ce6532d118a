"""The CPU rows of ``bench.streams``: :mod:`bench.streams_probe` run here and in a baseline.

The probe is run as a script with ``PYTHONPATH`` pointing at a tree: this checkout, and with
a ref, a temporary worktree of it (``git worktree add --detach``, removed afterwards) that
gets this checkout's probe, so both sides are measured the same way in the same run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["cpu_now_and_before", "cpu_per_event"]

ROOT = Path(__file__).resolve().parent.parent


def cpu_per_event(tree: Path) -> dict[str, float]:
    """ns per event of the probe's variants with ``app`` imported from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    script = ROOT / "bench" / "streams_probe.py"
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tree, env=env, check=True, capture_output=True,
        text=True,
    )  # fmt: skip
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def cpu_now_and_before(ref: str | None, runs: int = 3) -> tuple[dict[str, float], dict[str, float]]:
    """The probe's figures here and (``ref`` given) in a temporary worktree of ``ref``.

    The two alternate ``runs`` times and each keeps its lowest figure per variant: on a
    shared machine the load moves between runs, and the least disturbed run is the closest
    to the code's own cost.
    """
    if ref is None:
        return _lowest([cpu_per_event(ROOT) for _ in range(runs)]), {}
    with tempfile.TemporaryDirectory(prefix="bench-before-") as directory:
        tree = Path(directory) / "tree"
        git = ["git", "-C", str(ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", "-q", str(tree), ref], check=True)
        try:
            (tree / "bench" / "streams_probe.py").write_text(
                (ROOT / "bench" / "streams_probe.py").read_text()
            )
            now, before = [], []
            for _ in range(runs):
                now.append(cpu_per_event(ROOT))
                before.append(cpu_per_event(tree))
            return _lowest(now), _lowest(before)
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=True)


def _lowest(runs: list[dict[str, float]]) -> dict[str, float]:
    return {name: min(run[name] for run in runs) for name in runs[0]}
