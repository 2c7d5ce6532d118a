"""The dashboard in a real headless Chromium: the map, a replay by clicking, 403s.

The clinic runs with its timeline handler on Redis Streams (a real Redis, the test's own key
prefix) and one delivery allowed. A patient is created while the timeline's summaries are
broken, so a burst worker dead-letters the timeline's deliveries; the summaries are fixed, the
test clicks "Replay" on the ``patient.created`` dead letter, and a second burst handles it:
the entry appears on the patient's timeline. Screenshots of the main views are written to the
test's temporary directory, and to ``docs/img/`` when ``EVENTBUS_SCREENSHOTS=1``.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from app.dashboard import set_authorizer
from tests.support.browser import chromium, live_server
from tests.support.redis_server import RedisServer, delete_prefix

pytestmark = [pytest.mark.redis, pytest.mark.slow]

DOCS_IMAGES = Path(__file__).resolve().parents[3] / "docs" / "img"
TIMELINE = "patient_timeline.on_event"


@pytest.fixture
def streams_clinic(
    make_app: Callable[..., Flask], real_redis: RedisServer, key_prefix: str
) -> Iterator[Flask]:
    app = make_app(
        DEBUG=True,
        EVENTBUS_ROUTES={"patient_timeline.*": "redis-streams"},
        EVENTBUS_REDIS_URL=real_redis.url,
        EVENTBUS_KEY_PREFIX=key_prefix,
        EVENTBUS_MAX_DELIVERIES=1,
        EVENTBUS_BLOCK_MS=100,
        # published straight to the stream, so the burst right after each request finds it
        # (through the outbox, the relay thread may send it only after the burst has ended)
        EVENTBUS_OUTBOX=False,
    )
    try:
        yield app
    finally:
        client = redis.Redis.from_url(real_redis.url)
        delete_prefix(client, f"{key_prefix}*")
        client.close()
        for transport in app.extensions["eventbus"].transports.values():
            transport.close()


def _burst(app: Flask) -> None:
    from transports.redis_streams import StreamsWorker

    worker = StreamsWorker.from_app(app, (TIMELINE,), consumer_name="browser-test")
    try:
        worker.run(burst=True)
    finally:
        worker.close()


def _shoot(driver: Any, tmp_path: Path, name: str) -> None:
    driver.save_screenshot(str(tmp_path / f"{name}.png"))
    if os.environ.get("EVENTBUS_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(DOCS_IMAGES / f"{name}.png"))


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # loopback only
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_map_replay_by_click_and_refusals(
    streams_clinic: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    app = streams_clinic
    api = app.test_client()

    def broken_summary(*_: Any) -> str:
        raise RuntimeError("summaries are broken")

    monkeypatch.setattr("modules.patient_timeline.handlers.summarize", broken_summary)
    patient = {"full_name": "Ada", "email": "ada@example.org", "date_of_birth": "1815-12-10"}
    created = api.post("/patients", json=patient)
    assert created.status_code == 201
    patient_id = created.get_json()["id"]
    _burst(app)  # patient.created and the welcome's notification.sent: both dead-lettered
    monkeypatch.undo()

    with live_server(app) as base, chromium(tmp_path / "profile") as driver:
        wait = WebDriverWait(driver, 30)
        driver.get(f"{base}/eventbus/")
        modules = [m.text for m in driver.find_elements(By.CSS_SELECTOR, "#modules .module")]
        assert modules == [
            "appointments", "billing", "notifications", "patient_timeline", "patients",
        ]  # fmt: skip
        events = driver.find_elements(By.CSS_SELECTOR, "#event-map tr.event")
        assert len(events) == 11
        created_row = driver.find_element(By.CSS_SELECTOR, 'tr.event[data-event="patient.created"]')
        assert "patients" in created_row.find_element(By.CSS_SELECTOR, ".producers").text
        assert "redis-streams" in created_row.find_element(By.CSS_SELECTOR, ".handlers").text
        _shoot(driver, tmp_path, "dashboard-map")

        driver.get(f"{base}/eventbus/handlers")
        wait.until(ready.presence_of_element_located((By.ID, "handler-figures")))
        _shoot(driver, tmp_path, "dashboard-handlers")

        driver.get(f"{base}/eventbus/tail")
        tail = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#tail tr.tail-entry")]
        assert [line.split()[1] for line in tail] == ["notification.sent", "patient.created"]
        assert "ada@example.org" not in driver.page_source  # no payload values
        api.post("/patients", json={**patient, "full_name": "Grace", "email": "g@example.org"})
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#tail tr.tail-entry")) == 4)
        _shoot(driver, tmp_path, "dashboard-tail")

        driver.get(f"{base}/eventbus/dead-letters")
        rows = driver.find_elements(By.CSS_SELECTOR, "#dead-letters tr.dead-letter")
        assert len(rows) == 2
        _shoot(driver, tmp_path, "dashboard-dead-letters")
        target = next(row for row in rows if "patient.created" in row.text)
        letter_id = target.get_attribute("data-id")

        # a POST without its CSRF token is refused, even from the dashboard's own page
        driver.execute_script(
            "document.querySelectorAll('input[name=csrf_token]').forEach(i => i.remove())"
        )
        target.find_element(By.CSS_SELECTOR, "button.replay").click()
        wait.until(ready.text_to_be_present_in_element((By.TAG_NAME, "body"), "CSRF"))
        assert "CSRF check failed: missing CSRF token" in driver.page_source

        driver.get(f"{base}/eventbus/dead-letters")
        target = driver.find_element(By.CSS_SELECTOR, f'tr.dead-letter[data-id="{letter_id}"]')
        target.find_element(By.CSS_SELECTOR, "button.replay").click()
        notice = wait.until(ready.presence_of_element_located((By.ID, "notice")))
        assert notice.text == f"replayed {letter_id}"
        remaining = driver.find_elements(By.CSS_SELECTOR, "#dead-letters tr.dead-letter")
        assert [row.get_attribute("data-id") for row in remaining] != [letter_id]
        assert len(remaining) == 1

        _burst(app)  # the replayed event is handled this time
        timeline = api.get(f"/timeline/patients/{patient_id}").get_json()
        assert [e["event_type"] for e in timeline["entries"]] == ["patient.created"]

        set_authorizer(app, lambda request: None)  # the application's hook refuses
        assert _status(f"{base}/eventbus/") == 403
        driver.get(f"{base}/eventbus/dead-letters")
        assert "forbidden" in driver.page_source.lower()
        assert not driver.find_elements(By.ID, "dead-letters")
