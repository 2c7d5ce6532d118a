"""The bus's pytest plugin, registered through the ``pytest11`` entry point.

- Handler errors are raised under pytest: ``FLASK_EVENTBUS_RAISE_HANDLER_ERRORS`` defaults to
  true for apps built during the run, and the singleton raises them from the start.
- ``eventbus``: the singleton, cleared for the test and restored afterwards (the seed's
  "call ``clear()`` in fixtures").
- ``published_events``: an :class:`EventRecorder` of everything published during the test.
- Every test fails if it leaves a subscription behind (other than the module loader's);
  mark a test ``eventbus_leaves_subscriptions`` to allow it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from . import event_bus
from .bus import EventBus
from .testing import EventRecorder

RAISE_ENV = "FLASK_EVENTBUS_RAISE_HANDLER_ERRORS"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault(RAISE_ENV, "true")
    event_bus.raise_handler_errors = os.environ[RAISE_ENV].lower() in {"1", "true", "yes"}
    config.addinivalue_line(
        "markers", "eventbus_leaves_subscriptions: the test may leave bus subscriptions behind"
    )


@pytest.fixture
def eventbus() -> Iterator[EventBus]:
    """The ``event_bus`` singleton with no subscriptions; the previous ones come back after."""
    saved = event_bus.subscriptions()
    event_bus.clear()
    try:
        yield event_bus
    finally:
        event_bus.restore(saved)


@pytest.fixture
def published_events() -> Iterator[EventRecorder]:
    """Records every event published on ``event_bus`` during the test."""
    recorder = EventRecorder(event_bus).start()
    try:
        yield recorder
    finally:
        recorder.stop()


@pytest.fixture(autouse=True)
def _eventbus_no_leftover_subscriptions(request: pytest.FixtureRequest) -> Iterator[None]:
    before = {(s.handler_id, s.pattern) for s in event_bus.subscriptions()}
    yield
    if request.node.get_closest_marker("eventbus_leaves_subscriptions"):
        return
    left = [
        f"{sub.pattern} -> {sub.handler_id}"
        for sub in event_bus.subscriptions()
        if sub.owner != "loader" and (sub.handler_id, sub.pattern) not in before
    ]
    if left:
        event_bus.restore(
            s
            for s in event_bus.subscriptions()
            if s.owner == "loader" or (s.handler_id, s.pattern) in before
        )
        pytest.fail(
            "the test left event bus subscriptions behind (unsubscribe, or use the "
            f"`eventbus` fixture): {', '.join(left)}",
            pytrace=False,
        )
