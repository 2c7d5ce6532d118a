"""Scraping ``/metrics`` and a worker's ``--metrics-port`` after a known run: exact counts.

The clinic's timeline handler runs in a ``flask events worker`` subprocess (Redis Streams,
a real Redis, the test's own key prefix); notifications stay in-process. Two patients are
created through the API and one malformed entry is written onto the ``patient.created``
stream. Then, exactly:

- web ``/metrics``: 2 ``patient.created`` published in-process and 2 to Redis Streams, 2
  ``notification.sent`` (the welcome messages) to Redis Streams, 2 calls of the
  notifications handler handled in-process; and, read from Redis at scrape time, 1 dead
  letter and nothing pending.
- worker ``--metrics-port``: the timeline handler handled 2 of each event type and
  dead-lettered 1 ``patient.created`` (the malformed entry); nothing failed or retried.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from tests.app.observability_support import observers_restored
from tests.support.redis_server import RedisServer, delete_prefix, dies_with_parent, free_port
from tests.support.schema import make_app

pytestmark = [pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
TIMELINE = "patient_timeline.on_event"
NOTIFY = "notifications.on_patient_created"


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@pytest.fixture
def clinic(real_redis: RedisServer, key_prefix: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    config: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'clinic.db'}",
        "EVENTBUS_ROUTES": {"patient_timeline.*": "redis-streams"},
        "EVENTBUS_REDIS_URL": real_redis.url,
        "EVENTBUS_KEY_PREFIX": key_prefix,
        "EVENTBUS_BLOCK_MS": 100,
        "EVENTBUS_OUTBOX": False,
    }
    with observers_restored():
        app = make_app({**config, "EVENTBUS_METRICS": True})
        client = redis.Redis.from_url(real_redis.url)
        try:
            yield {"app": app, "config": config, "redis": client, "log": tmp_path / "worker.log"}
        finally:
            delete_prefix(client, f"{key_prefix}*")
            client.close()
            for transport in app.extensions["eventbus"].transports.values():
                transport.close()


def _start_worker(config: dict[str, Any], port: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    for key, setting in config.items():
        env[f"FLASK_{key}"] = setting if isinstance(setting, str) else _json(setting)
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "events", "worker"]
    command += ["--handler", TIMELINE, "--consumer-name", "metrics-test"]
    command += ["--metrics-port", str(port)]
    with log.open("ab") as out:
        return subprocess.Popen(
            dies_with_parent(command), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _json(setting: Any) -> str:
    import json

    return json.dumps(setting)


def _scrape(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
            return str(response.read().decode())
    except OSError:
        return None


def test_exact_counts_on_both_scrapes(clinic: dict[str, Any]) -> None:
    app: Flask = clinic["app"]
    api = app.test_client()
    for name in ("Ada", "Grace"):
        patient = {
            "full_name": name,
            "email": f"{name.lower()}@example.org",
            "date_of_birth": "1815-12-10",
        }
        assert api.post("/patients", json=patient).status_code == 201
    stream = f"{app.config['EVENTBUS_KEY_PREFIX']}:stream:patient.created"
    clinic["redis"].xadd(stream, {"junk": "not an envelope"})

    port = free_port()
    worker = _start_worker(clinic["config"], port, clinic["log"])
    try:
        wanted = {
            ("patient.created", "eventbus_events_handled_total"): 2.0,
            ("notification.sent", "eventbus_events_handled_total"): 2.0,
            ("patient.created", "eventbus_events_dead_lettered_total"): 1.0,
        }
        deadline = time.monotonic() + 120
        found: dict[Any, float | None] = {}
        while time.monotonic() < deadline:
            text = _scrape(f"http://127.0.0.1:{port}/metrics")
            if text is not None:
                samples = _samples(text)
                found = {
                    key: value(samples, key[1], event_type=key[0], handler_id=TIMELINE,
                               transport="redis-streams")
                    for key in wanted
                }  # fmt: skip
                if found == wanted:
                    break
            assert worker.poll() is None, clinic["log"].read_text()[-3000:]
            time.sleep(0.1)
        assert found == wanted, clinic["log"].read_text()[-3000:]
        for name in ("eventbus_events_failed_total", "eventbus_events_retried_total"):
            assert not [key for key in samples if key[0] == name], name
        assert value(
            samples, "eventbus_handler_duration_seconds_count",
            event_type="patient.created", handler_id=TIMELINE, transport="redis-streams",
        ) == 2.0  # fmt: skip
    finally:
        if worker.poll() is None:
            worker.terminate()  # by its own pid
            worker.wait(timeout=60)

    web = _samples(api.get("/metrics").get_data(as_text=True))
    published = "eventbus_events_published_total"
    assert value(web, published, event_type="patient.created", transport="inprocess") == 2
    assert value(web, published, event_type="patient.created", transport="redis-streams") == 2
    assert value(web, published, event_type="notification.sent", transport="redis-streams") == 2
    handled = "eventbus_events_handled_total"
    assert value(web, handled, event_type="patient.created", handler_id=NOTIFY,
                 transport="inprocess") == 2  # fmt: skip
    assert value(web, "eventbus_dead_letters", transport="redis-streams") == 1
    assert (
        value(web, "eventbus_handler_dead_letters", handler_id=TIMELINE, transport="redis-streams")
        == 1
    )
    assert (
        value(web, "eventbus_handler_pending", handler_id=TIMELINE, transport="redis-streams") == 0
    )
    assert value(web, "eventbus_stats_up", source="redis-streams") == 1
