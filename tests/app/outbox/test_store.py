"""The outbox store: writes in the caller's transaction, exclusive claims, leases, retention."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.events.envelope import Envelope
from app.core.outbox import OutboxStore


def envelope(n: int) -> Envelope:
    return Envelope(
        id=f"{n:032x}",
        type="patient.created",
        payload={"patient_id": f"p{n}", "clinic_id": "c1", "name": "Zoë"},
        correlation_id="corr",
        causation_id=None if n % 2 else "cause",
        producer="patients",
        occurred_at="2026-11-22T10:00:00.000000Z",
    )


def write(engine: Engine, count: int, start: int = 0, commit: bool = True) -> None:
    with Session(engine) as session:
        for n in range(start, start + count):
            OutboxStore.add(session, envelope(n))
        if commit:
            session.commit()
        else:
            session.rollback()


LEASE = timedelta(seconds=60)


def test_rows_round_trip_in_order(engine: Engine, store: OutboxStore) -> None:
    write(engine, 5)
    claim = store.claim(10, LEASE)
    assert claim is not None
    assert claim.envelopes == tuple(envelope(n) for n in range(5))
    assert store.claim(10, LEASE) is None, "claimed rows are leased"


def test_a_rolled_back_transaction_leaves_no_row(engine: Engine, store: OutboxStore) -> None:
    write(engine, 3, commit=False)
    assert store.pending_ids() == []
    assert store.claim(10, LEASE) is None


def test_concurrent_claims_never_overlap(engine: Engine, store: OutboxStore) -> None:
    write(engine, 300)
    claimed: list[list[str]] = []
    lock = threading.Lock()

    def claimer() -> None:
        mine: list[str] = []
        while (claim := store.claim(7, LEASE)) is not None:
            mine += [e.id for e in claim.envelopes]
        with lock:
            claimed.append(mine)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [event_id for mine in claimed for event_id in mine]
    assert len(every) == 300
    assert len(set(every)) == 300


def test_sent_rows_are_done_and_purged_after_retention(engine: Engine, store: OutboxStore) -> None:
    write(engine, 4)
    claim = store.claim(10, LEASE)
    assert claim is not None
    store.mark_sent(claim)
    stats = store.stats()
    assert (stats.backlog, stats.oldest_pending_age_s, stats.sent_retained) == (0, None, 4)
    assert store.purge_sent(timedelta(hours=1)) == 0
    assert store.purge_sent(timedelta(seconds=-1)) == 4


def test_an_expired_lease_makes_rows_claimable_again(engine: Engine, store: OutboxStore) -> None:
    write(engine, 2)
    first = store.claim(10, timedelta(seconds=-1))  # a relay that died at once
    assert first is not None
    second = store.claim(10, LEASE)
    assert second is not None and second.envelopes == first.envelopes
    store.mark_sent(first)  # the dead relay's late mark does not touch the new lease
    assert store.stats().backlog == 2


def test_released_rows_wait_and_record_the_error(engine: Engine, store: OutboxStore) -> None:
    write(engine, 2)
    claim = store.claim(10, LEASE)
    assert claim is not None
    store.release(claim, "TransportError: redis down", timedelta(hours=1))
    assert store.claim(10, LEASE) is None, "not due again yet"
    store.release(claim, "ignored: not this claim's rows any more", timedelta(0))
    assert store.claim(10, LEASE) is None
    stats = store.stats()
    assert stats.backlog == 2 and stats.oldest_pending_age_s is not None


def test_flask_events_stats_shows_the_outbox_backlog() -> None:
    import json

    from app import create_app
    from app.core.events import event_bus

    app = create_app({"EVENTBUS_OUTBOX": True, "EVENTBUS_OUTBOX_RELAY": "none", "TESTING": True})
    try:
        store = app.extensions["eventbus_outbox"].store
        with Session(store.engine) as session:
            OutboxStore.add(session, envelope(1))
            session.commit()
        runner = app.test_cli_runner()
        table = runner.invoke(args=["events", "stats"])
        assert "outbox: 1 unsent, oldest " in table.output
        data = json.loads(runner.invoke(args=["events", "stats", "--json"]).output)
        assert data[-1]["transport"] == "outbox" and data[-1]["backlog"] == 1
    finally:
        event_bus.remove_owned("loader")
