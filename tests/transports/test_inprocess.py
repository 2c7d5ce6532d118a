"""The in-process transport against the contract suite."""

from __future__ import annotations

import pytest

from app.core.events import EventBus, Router
from tests.transports.contract import Features, Harness, TransportContract
from transports.inprocess import InProcessTransport


@pytest.fixture
def harness() -> Harness:
    bus = EventBus()
    bus.configure(router=Router("inprocess", {}, {"inprocess"}), raise_handler_errors=False)
    return Harness(
        bus=bus,
        transport=InProcessTransport(),
        drain=lambda: None,
        features=Features(synchronous=True, ordered=True, retries_failures=False),
    )


class TestInProcessContract(TransportContract):
    """Every contract test, on the in-process transport."""
