"""The API explorer in a real headless Chromium: it reads /openapi.json and sends a request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app.core.events import event_bus
from tests.support.browser import chromium, live_server
from tests.support.schema import make_app

pytestmark = pytest.mark.slow


@pytest.fixture
def debug_app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "DEBUG": True})
    yield app
    event_bus.remove_owned("loader")


def test_the_explorer_lists_every_operation_and_sends_a_request(
    debug_app: Flask, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    paths: dict[str, dict[str, object]] = (
        debug_app.test_client().get("/openapi.json").get_json()["paths"]
    )
    operations = sum(len(item) for item in paths.values())
    with live_server(debug_app) as base, chromium(tmp_path / "profile") as driver:
        driver.get(f"{base}/docs")
        deadline = time.monotonic() + 30
        while len(driver.find_elements(By.TAG_NAME, "details")) < operations:
            assert time.monotonic() < deadline, driver.page_source[:500]
            time.sleep(0.1)
        create = driver.find_element(By.CSS_SELECTOR, 'details[data-operation="post /patients"]')
        create.find_element(By.TAG_NAME, "summary").click()
        body = create.find_element(By.TAG_NAME, "textarea")
        body.clear()
        body.send_keys('{"full_name": "Ada Lovelace"}')
        create.find_element(By.TAG_NAME, "button").click()
        output = create.find_element(By.TAG_NAME, "pre")
        while "Ada Lovelace" not in output.text:
            assert time.monotonic() < deadline, output.text
            time.sleep(0.1)
        assert output.text.startswith("201")
        driver.save_screenshot(str(tmp_path / "explorer.png"))
    with debug_app.app_context():
        assert debug_app.test_client().get("/patients").get_json()["total"] == 1
