"""A real browser for the dashboard tests: Debian's Chromium, headless, through chromedriver.

``make test`` installs Chromium and chromedriver when ``/usr/bin/chromium`` is missing
(the Makefile's ``browser`` step); a test that finds neither fails with that advice, it is
never skipped. Chromium starts headless with a fresh profile in the test's temporary
directory and without its background network traffic (this machine's network is closed),
and is ended by the driver when the block ends.

:func:`live_server` serves a Flask app on a free loopback port from a thread (werkzeug's
threaded server) for the browser to load, and shuts it down afterwards.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

__all__ = ["CHROMEDRIVER", "CHROMIUM", "chromium", "live_server"]

CHROMIUM = os.environ.get("EVENTBUS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("EVENTBUS_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


@contextmanager
def chromium(profile_dir: Path) -> Iterator[Any]:
    """A selenium WebDriver on headless Chromium with a fresh profile under ``profile_dir``."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        raise AssertionError(
            f"{', '.join(missing)} not found: run `make browser` "
            "(apt-get install chromium chromium-driver)"
        )
    os.environ.setdefault("SE_AVOID_STATS", "true")  # selenium's usage statistics: off
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in _FLAGS:
        options.add_argument(flag)
    profile_dir.mkdir(parents=True, exist_ok=True)
    options.add_argument(f"--user-data-dir={profile_dir}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on ``127.0.0.1`` (a free port) while the block runs; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)
