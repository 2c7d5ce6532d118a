"""The default publish cost before and after a change, and the bus's share of POST /patients.

``python -m bench.inprocess --before REF`` runs ``bench/publish_probe.py`` in this
checkout and, with ``--before``, in a temporary worktree of ``REF`` (``git worktree add
--detach``, removed afterwards), both in the same run with the same interpreter. Then it times
``POST /patients`` on the whole clinic (in-process bus, SQLite) and reports the bus's share:
what ``publish_after_commit`` asks of the bus for ``patient.created`` (checked and
prepared when queued, sent after the commit) with 2 no-op handlers (the clinic's
two subscribers; what they do is the modules' work, not the bus's) over the request's time.
Bar: the bus is at most 3% of the request.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app import create_app, migrations
from bench.timing import markdown_table

ROOT = Path(__file__).resolve().parent.parent
PATIENT = {"full_name": "Ada Lovelace", "email": "ada@example.org", "date_of_birth": "1815-12-10"}
SHARE_VARIANT = "publish_after_commit's bus work, N=2"


def probe(tree: Path, rounds: int, sample_ms: float) -> dict[str, float]:
    """The probe's figures with ``app`` imported from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "FLASK_LOG_LEVEL": "WARNING"}
    script = ROOT / "bench" / "publish_probe.py"
    done = subprocess.run(
        [sys.executable, str(script), str(rounds), str(sample_ms)],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def baseline(ref: str, rounds: int, sample_ms: float) -> dict[str, float]:
    """The probe's figures in a temporary worktree of ``ref``."""
    with tempfile.TemporaryDirectory(prefix="bench-before-") as directory:
        tree = Path(directory) / "tree"
        git = ["git", "-C", str(ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", "-q", str(tree), ref], check=True)
        try:
            return probe(tree, rounds, sample_ms)
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=True)


def request_ns(count: int, rounds: int) -> float:
    """Median ns per ``POST /patients`` on the whole clinic (in-process bus, SQLite file)."""
    with tempfile.TemporaryDirectory(prefix="bench-share-") as directory:
        config = {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/clinic.db",
            "LOG_LEVEL": "WARNING",
        }
        migrations.upgrade(create_app({**config, "DATABASE_SCHEMA_CHECK": False}))
        app = create_app(config)
        client = app.test_client()
        samples = []
        for _ in range(rounds):
            started = time.perf_counter_ns()
            for _ in range(count):
                response = client.post("/patients", json=PATIENT)
                assert response.status_code == 201, response.get_json()
            samples.append((time.perf_counter_ns() - started) / count)
        return statistics.median(samples)


def report(before_ref: str | None, rounds: int, sample_ms: float, requests: int) -> str:
    """The publish-cost table (now, and before ``before_ref`` when given) and the share line."""
    after = probe(ROOT, rounds, sample_ms)
    before = baseline(before_ref, rounds, sample_ms) if before_ref else None
    header = ["default configuration", "now ns"]
    if before:
        header += [f"before ({before_ref}) ns", "now / before"]
    rows = []
    for name, value in after.items():
        row = [name, f"{value:,.0f}"]
        if before:
            row += [f"{before[name]:,.0f}", f"{value / before[name]:.2f}"]
        rows.append(row)
    request = request_ns(requests, 7)
    share = after[SHARE_VARIANT] / request
    verdict = "pass" if share <= 0.03 else "FAIL"
    return (
        markdown_table(header, rows)
        + f"\n\n- POST /patients: {request / 1000:,.0f} µs per request; the bus "
        f"({SHARE_VARIANT}): {after[SHARE_VARIANT] / 1000:.1f} µs = {share:.2%} of it "
        f"(bar ≤ 3%: {verdict})"
    )
