"""The relay: batches to the transports, backs off while they are down, never loses a row,
sets aside a row it cannot read instead of stopping at it. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from structlog.testing import capture_logs

from app.core.events import EventBus, EventType, Router, TransportError
from app.core.events.envelope import Envelope
from app.core.events.subscriptions import Subscription
from app.core.outbox import OutboxRelay, OutboxStore, RelaySettings, open_store
from tests.app.outbox.conftest import LEASE
from tests.app.outbox.test_store import write, write_unreadable


class FlakyTransport:
    """Records batches; raises ``TransportError`` while ``down``. With ``reads_payload`` it
    builds each payload dict, as the RQ transport does (Redis Streams sends the text)."""

    name = "fake"

    def __init__(self) -> None:
        self.down = False
        self.reads_payload = False
        self.attempts = 0
        self.batches: list[list[str]] = []

    def prepare(self, subscriptions: Sequence[Subscription]) -> None:
        pass

    def publish(self, envelope: Envelope, subscriptions: Sequence[Subscription]) -> None:
        self.publish_batch([(envelope, subscriptions)])

    def publish_batch(self, items: Sequence[tuple[Envelope, Sequence[Subscription]]]) -> None:
        self.attempts += 1
        if self.down:
            raise TransportError("redis is down")
        if self.reads_payload:
            for envelope, _ in items:
                envelope.to_dict()
        self.batches.append([envelope.id for envelope, _ in items])

    def close(self) -> None:
        pass

    def sent(self) -> list[str]:
        return [event_id for batch in self.batches for event_id in batch]


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
    sent = transport.sent()
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
    assert relay.run_once() == 0
    assert relay.failures == 2 and relay.backoff() == 120
    assert store.stats().backlog == 30
    transport.down = False
    assert relay.drain() == 30
    assert relay.failures == 0
    assert store.stats().backlog == 0
    assert len(transport.sent()) == len(set(transport.sent())) == 30


def test_the_relay_loop_waits_out_its_backoff_whatever_wakes_it(
    engine: Engine, relay: OutboxRelay, transport: FlakyTransport
) -> None:
    relay.settings = RelaySettings(batch_size=50, poll_interval_s=0.01, backoff_base_s=0.3)
    write(engine, 5)
    transport.down = True
    stop = threading.Event()
    loop = threading.Thread(target=relay.run, args=(stop,))
    loop.start()
    for _ in range(50):  # commits wake the relay: many of them, over ~0.5 s
        relay.wake()
        time.sleep(0.01)
    stop.set()
    relay.wake()
    loop.join(timeout=30)
    assert not loop.is_alive()
    # Attempts at 0 s and 0.3 s fit in the window (a slow machine makes fewer); 50 wake-ups
    # would have made ~50 without the backoff.
    assert 1 <= transport.attempts <= 3


def test_a_crash_between_send_and_mark_resends_never_loses(
    engine: Engine,
    relay: OutboxRelay,
    transport: FlakyTransport,
    stores: list[OutboxStore],
) -> None:
    dead = open_store(engine, timedelta(milliseconds=50), keep_sent=True)
    stores.append(dead)
    write(engine, 5)
    claim = dead.claim(10)
    assert claim is not None
    relay.bus.send_remote_batch(claim.envelopes)  # sent; then the relay died: no mark
    if engine.dialect.name != "sqlite":
        claim.connection.invalidate()  # type: ignore[attr-defined]
    time.sleep(0.1)  # SQLite: the dead relay's lease lapses
    assert relay.drain() == 5
    sent = transport.sent()
    assert len(sent) == 10 and len(set(sent)) == 5, "duplicates, never losses"


def test_a_row_that_cannot_be_read_is_set_aside_and_the_rest_go_out(
    engine: Engine,
    store: OutboxStore,
    relay: OutboxRelay,
    transport: FlakyTransport,
) -> None:
    transport.reads_payload = True
    write(engine, 2)
    write_unreadable(engine, "bad-row", '"a string"')
    write(engine, 2, start=2)
    with capture_logs() as logs:
        assert relay.drain() == 5
    assert len(transport.sent()) == 4 and "bad-row" not in transport.sent()
    stats = store.stats()
    assert (stats.backlog, stats.set_aside) == (0, 1)
    assert relay.failures == 0
    [aside] = [log for log in logs if log["event"] == "outbox.row_set_aside"]
    assert "not an object" in aside["reason"] and aside["log_level"] == "error"


def test_a_transport_that_never_reads_the_payload_forwards_the_text_as_stored(
    engine: Engine, relay: OutboxRelay, transport: FlakyTransport
) -> None:
    """Redis Streams sends the stored text; its workers dead-letter what they cannot read."""
    write_unreadable(engine, "odd-row", "[1]")
    assert relay.drain() == 1
    assert transport.sent() == ["odd-row"]


def test_a_stopped_relay_hands_over_at_once(
    engine: Engine, relay: OutboxRelay, stores: list[OutboxStore]
) -> None:
    write(engine, 3)
    relay.start()
    deadline = time.monotonic() + 60
    while relay.store.stats().backlog and time.monotonic() < deadline:
        time.sleep(0.01)
    relay.stop()
    successor = open_store(engine, LEASE, keep_sent=True)
    stores.append(successor)
    write(engine, 2, start=3)
    claim = successor.claim(10)
    assert claim is not None and len(claim.envelopes) == 2
    successor.release(claim)
