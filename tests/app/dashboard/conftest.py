"""Fixtures of the dashboard tests: a clinic app with the dashboard mounted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from tests.app.observability_support import observers_restored
from tests.support import schema


@pytest.fixture
def make_app(tmp_path: Any) -> Iterator[Callable[..., Flask]]:
    """Build clinic apps with the dashboard on (and ``overrides``); observers removed after."""
    with observers_restored():

        def make(**overrides: Any) -> Flask:
            config: dict[str, Any] = {
                "EVENTBUS_DASHBOARD": True,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'clinic.db'}",
                **overrides,
            }
            return schema.make_app(config)

        yield make
