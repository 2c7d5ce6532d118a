"""The CPU rows of ``bench.streams``: :mod:`bench.streams_probe` run here and in a baseline.

The probe is run as a script with ``PYTHONPATH`` pointing at a tree: this checkout, and with
a ref, a temporary worktree of it (``git worktree add --detach``, removed afterwards) that
gets this checkout's probe, so both sides are measured the same way in the same run.

Two measures per variant and tree:

- **µs per event**: the probe's timing, the lowest of 3 alternating runs (on a shared machine
  the load moves between runs, and the least disturbed run is the closest to the code's own
  cost);
- **instructions per event** (when ``valgrind`` is installed): ``valgrind --tool=callgrind``
  counting only the variant's own loop (``--toggle-collect=_operator_call``: the probe runs
  it through ``operator.call``), divided by the events. Unlike time, the count does not
  depend on the machine's load, so it is the figure to compare before and after.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["CpuFigures", "cpu_figures", "cpu_per_event", "instructions_per_event"]

ROOT = Path(__file__).resolve().parent.parent
PROBE = ROOT / "bench" / "streams_probe.py"
VARIANTS = ("bus.publish → Streams", "worker per event")
CpuFigures = dict[str, dict[str, float]]
"""Variant → measure (``"µs"``, ``"instructions"``) → figure."""


def cpu_per_event(tree: Path) -> dict[str, float]:
    """ns per event of the probe's variants with ``app`` imported from ``tree``."""
    done = subprocess.run(
        [sys.executable, str(PROBE)], cwd=tree, env=_env(tree), check=True, capture_output=True,
        text=True,
    )  # fmt: skip
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def instructions_per_event(tree: Path, variant: str, events: int = 3000) -> float:
    """Instructions per event of ``variant`` with ``app`` from ``tree`` (callgrind)."""
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as directory:
        done = subprocess.run(
            [
                "valgrind", "--tool=callgrind", "--collect-atstart=no",
                "--toggle-collect=_operator_call",
                f"--callgrind-out-file={directory}/callgrind.out",
                sys.executable, str(PROBE), "--run", variant, str(events),
            ],
            cwd=tree, env=_env(tree), check=True, capture_output=True, text=True,
        )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None or found.group(1) == "0":  # no count, or no _operator_call symbol
        raise RuntimeError(
            "callgrind counted nothing (a stripped interpreter?): " + done.stderr[-300:]
        )
    return int(found.group(1)) / events


def cpu_figures(
    ref: str | None, runs: int = 3, *, instructions: bool = True
) -> tuple[CpuFigures, CpuFigures]:
    """The probe's figures here and (``ref`` given) in a temporary worktree of ``ref``;
    instruction counts too when ``instructions`` and valgrind is installed."""
    with _baseline(ref) as before_tree:
        trees = [ROOT] if before_tree is None else [ROOT, before_tree]
        timings: dict[Path, list[dict[str, float]]] = {tree: [] for tree in trees}
        for _ in range(runs):  # alternating, so both sides see the same load
            for tree in trees:
                timings[tree].append(cpu_per_event(tree))
        figures = [_lowest(timings[tree]) for tree in trees]
        if instructions and shutil.which("valgrind"):
            try:
                for tree, tree_figures in zip(trees, figures, strict=True):
                    for variant in VARIANTS:
                        count = instructions_per_event(tree, variant)
                        tree_figures[variant]["instructions"] = count
            except RuntimeError as exc:  # the table then shows µs only
                print(f"instruction counts skipped: {exc}", file=sys.stderr)
                for tree_figures in figures:
                    for variant_figures in tree_figures.values():
                        variant_figures.pop("instructions", None)
    return figures[0], figures[1] if len(figures) > 1 else {}


@contextmanager
def _baseline(ref: str | None) -> Iterator[Path | None]:
    """A temporary worktree of ``ref`` with this checkout's probe, or ``None``."""
    if ref is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="bench-before-") as directory:
        tree = Path(directory) / "tree"
        git = ["git", "-C", str(ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", "-q", str(tree), ref], check=True)
        try:
            (tree / "bench" / "streams_probe.py").write_text(PROBE.read_text())
            yield tree
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=True)


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree)}


def _lowest(runs: list[dict[str, float]]) -> CpuFigures:
    return {name: {"µs": min(run[name] for run in runs) / 1000} for name in runs[0]}
