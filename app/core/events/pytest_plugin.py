"""The bus's pytest plugin, for the projects that opt in.

Nothing registers it by installing the package (no ``pytest11`` entry point): a project turns
it on in its own top-level ``conftest.py``::

    pytest_plugins = ["app.core.events.pytest_plugin"]

(or ``pytest -p app.core.events.pytest_plugin``). Importing it changes nothing; once pytest
has loaded it:

- Handler errors are raised: ``FLASK_EVENTBUS_RAISE_HANDLER_ERRORS`` defaults to true for
  apps built during the run (set in ``pytest_configure``, put back in ``pytest_unconfigure``),
  and the singleton raises them from the start.
- ``eventbus``: the singleton, cleared for the test and restored afterwards.
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


_saved = pytest.StashKey[tuple[str | None, bool]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_saved] = (os.environ.get(RAISE_ENV), event_bus.raise_handler_errors)
    os.environ.setdefault(RAISE_ENV, "true")
    event_bus.raise_handler_errors = os.environ[RAISE_ENV].lower() in {"1", "true", "yes"}
    config.addinivalue_line(
        "markers", "eventbus_leaves_subscriptions: the test may leave bus subscriptions behind"
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    if _saved not in config.stash:
        return
    env, raise_errors = config.stash[_saved]
    if env is None:
        os.environ.pop(RAISE_ENV, None)
    else:
        os.environ[RAISE_ENV] = env
    event_bus.raise_handler_errors = raise_errors


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
