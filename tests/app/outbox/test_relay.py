"""The relay: batches to the transports, backs off while they are down, never loses a row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from app.core.events import EventBus, EventType, Router, TransportError
from app.core.events.envelope import Envelope
from app.core.events.subscriptions import Subscription
from app.core.outbox import OutboxRelay, OutboxStore, RelaySettings, outbox
from app.core.persistence.clock import utcnow
from tests.app.outbox.test_store import write


class FlakyTransport:
    """Records batches; raises ``TransportError`` while ``down``."""

    name = "fake"

    def __init__(self) -> None:
        self.down = False
        self.batches: list[list[str]] = []

    def prepare(self, subscriptions: Sequence[Subscription]) -> None:
        pass

    def publish(self, envelope: Envelope, subscriptions: Sequence[Subscription]) -> None:
        self.publish_batch([(envelope, subscriptions)])

    def publish_batch(self, items: Sequence[tuple[Envelope, Sequence[Subscription]]]) -> None:
        if self.down:
            raise TransportError("redis is down")
        self.batches.append([envelope.id for envelope, _ in items])

    def close(self) -> None:
        pass


@pytest.fixture
def transport() -> FlakyTransport:
    return FlakyTransport()


@pytest.fixture
def relay(store: OutboxStore, transport: FlakyTransport) -> OutboxRelay:
    bus = EventBus()
    bus.configure(router=Router("fake", {}, {"inprocess", "fake"}), transports={"fake": transport})
    bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="remote.handler")
    return OutboxRelay(store, bus, RelaySettings(batch_size=50, backoff_base_s=0.01))


def test_rows_go_out_in_batches_once(
    engine: Engine, store: OutboxStore, relay: OutboxRelay, transport: FlakyTransport
) -> None:
    write(engine, 120)
    assert relay.drain() == 120
    assert [len(batch) for batch in transport.batches] == [50, 50, 20]
    sent = [event_id for batch in transport.batches for event_id in batch]
    assert sent == sorted(sent) and len(set(sent)) == 120
    assert relay.drain() == 0
    assert store.stats().backlog == 0


def test_a_down_transport_delays_delivery_and_loses_nothing(
    engine: Engine, store: OutboxStore, relay: OutboxRelay, transport: FlakyTransport
) -> None:
    relay.settings = RelaySettings(batch_size=50, backoff_base_s=60, backoff_max_s=600)
    write(engine, 30)
    transport.down = True
    assert relay.run_once() == 0
    assert relay.failures == 1 and relay.backoff() == 60
    assert relay.run_once() == 0, "released rows wait out the backoff"
    assert relay.failures == 1
    make_due(engine)
    assert relay.run_once() == 0
    assert relay.failures == 2 and relay.backoff() == 120
    assert store.stats().backlog == 30
    transport.down = False
    make_due(engine)
    assert relay.drain() == 30
    assert relay.failures == 0
    assert store.stats().backlog == 0
    sent = [event_id for batch in transport.batches for event_id in batch]
    assert len(sent) == len(set(sent)) == 30


def make_due(engine: Engine) -> None:
    """Move every row's due time to now (instead of waiting out a backoff)."""
    with engine.begin() as connection:
        connection.execute(update(outbox).values(available_at=utcnow()))


def test_a_crash_between_send_and_mark_resends_after_the_lease(
    engine: Engine, store: OutboxStore, relay: OutboxRelay, transport: FlakyTransport
) -> None:
    write(engine, 5)
    claim = store.claim(10, timedelta(seconds=-1))  # sent, then the relay died: no mark
    assert claim is not None
    relay.bus.send_remote_batch(claim.envelopes)
    assert relay.drain() == 5
    sent = [event_id for batch in transport.batches for event_id in batch]
    assert len(sent) == 10 and len(set(sent)) == 5, "duplicates, never losses"
