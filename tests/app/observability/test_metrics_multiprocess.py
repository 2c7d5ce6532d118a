"""``/metrics`` under gunicorn with two workers: every scrape sums both processes' counts.

``PROMETHEUS_MULTIPROC_DIR`` names an empty directory before gunicorn starts; ``POST
/patients`` requests are sent until both workers have counted some (each worker's counts are
in files named by its pid), and every one of several scrapes, answered by either worker,
reports exactly as many ``patient.created`` published in-process as requests were sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.redis_server import dies_with_parent, free_port
from tests.support.schema import prepare_database

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]


def _published(text: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "eventbus_events_published_total" and sample.labels == {
                "event_type": "patient.created",
                "transport": "inprocess",
            }:
                return sample.value
    return None


def _request(url: str, body: dict[str, str] | None = None) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
        return int(response.status), response.read().decode()


def test_scrapes_sum_every_worker(tmp_path: Path) -> None:
    database = tmp_path / "clinic.db"
    prepare_database(f"sqlite:///{database}")  # the schema, before the workers open it
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "FLASK_EVENTBUS_METRICS": "true",
        "DATABASE_URL": f"sqlite:///{database}",
        "FLASK_EVENTBUS_RAISE_HANDLER_ERRORS": "false",
    }
    log = tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as out:
        server = subprocess.Popen(
            dies_with_parent([*command, "wsgi:app"]),
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _request(f"{base}/metrics")
                break
            except OSError:
                assert server.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.1)
        sent = 0
        deadline = time.monotonic() + 60  # a bound so the test stops, not a timing assertion
        with ThreadPoolExecutor(2) as pool:
            # Two at once: a sync worker busy with one cannot take the other, so once both
            # workers are up each serves some (one at a time, the one that just answered
            # may take them all while the other is still booting on a busy machine).
            while sent < 6 or len(list(metrics_dir.glob("counter_*.db"))) < 2:
                assert time.monotonic() < deadline, "every request went to one gunicorn worker"
                patients = [{"full_name": f"P{n}", "email": f"p{n}@example.org"}
                            for n in (sent, sent + 1)]  # fmt: skip
                statuses = pool.map(lambda body: _request(f"{base}/patients", body)[0], patients)
                assert list(statuses) == [201, 201]
                sent += 2
        for _ in range(6):  # whichever worker answers, the sum of both
            assert _published(_request(f"{base}/metrics")[1]) == sent
    finally:
        server.terminate()  # by its own pid; gunicorn stops its workers
        server.wait(timeout=60)
