"""Fixtures for the architecture tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from app.core.events import event_bus
from tests.support.schema import make_app

from .support import SAMPLES


@pytest.fixture
def sample_app() -> Iterator[Callable[[str], Flask]]:
    """Build an app whose loader mounts ``samples.<name>``; its subscriptions go afterwards."""

    def build(name: str) -> Flask:
        return make_app({"MODULES_PACKAGE": f"{SAMPLES}.{name}", "TESTING": True})

    try:
        yield build
    finally:
        event_bus.remove_owned("loader")
