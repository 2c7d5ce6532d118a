"""A fresh bus per test, for tests of the bus's own mechanics (no app, no declared shapes)."""

from __future__ import annotations

import pytest

from app.core.events import EventBus


@pytest.fixture
def bus() -> EventBus:
    """A new ``EventBus`` (strict, validating, raising handler errors), not the singleton."""
    fresh = EventBus()
    fresh.configure(raise_handler_errors=True)
    return fresh
