"""The outbox store: writes in the caller's transaction, exclusive claims, relays that die,
rows set aside, retention. Every test runs on SQLite (watermark and lease) and on PostgreSQL
(row locks) unless its name says otherwise."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from app.core.events.envelope import Envelope
from app.core.events.exceptions import ConfigurationError
from app.core.outbox import Claim, OutboxStore, open_store, outbox, outbox_cursor, outbox_set_aside
from app.core.persistence.clock import utcnow
from tests.app.outbox.conftest import LEASE


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


def write_unreadable(engine: Engine, event_id: str, payload_text: str) -> None:
    """A row as no publisher writes it (edited by hand, a bug): its payload is not an object."""
    with engine.begin() as connection:
        connection.execute(
            insert(outbox).values(
                event_id=event_id,
                event_type="patient.created",
                version=1,
                occurred_at="2026-11-22T10:00:00.000000Z",
                producer="patients",
                correlation_id="corr",
                payload=payload_text,
                created_at=utcnow(),
            )
        )


def claimed(store: OutboxStore, limit: int = 100) -> Claim:
    claim = store.claim(limit)
    assert claim is not None
    return claim


def test_rows_round_trip_in_order_with_the_payload_text_as_written(
    engine: Engine, store: OutboxStore
) -> None:
    write(engine, 5)
    claim = claimed(store)
    assert claim.envelopes == tuple(envelope(n) for n in range(5))
    assert [e.encoded_payload for e in claim.envelopes] == [
        envelope(n).payload_json() for n in range(5)
    ]
    assert len(claim.seqs) == 5 and list(claim.seqs) == sorted(claim.seqs)
    assert store.mark_sent(claim)
    assert store.claim(100) is None


def test_rows_claimed_by_one_relay_are_not_given_to_another(
    engine: Engine, store: OutboxStore, stores: list[OutboxStore]
) -> None:
    other = open_store(engine, LEASE, keep_sent=True)
    stores.append(other)
    write(engine, 3)
    claim = claimed(store)
    assert other.claim(100) is None
    store.mark_sent(claim)
    write(engine, 2, start=3)
    later = claimed(store)
    assert later.envelopes == (envelope(3), envelope(4))
    store.release(later)


def test_a_rolled_back_transaction_leaves_no_row(engine: Engine, store: OutboxStore) -> None:
    write(engine, 3, commit=False)
    assert store.pending_ids() == []
    assert store.claim(10) is None


def test_rows_committed_during_a_claim_come_in_the_next_one(
    engine: Engine, store: OutboxStore
) -> None:
    write(engine, 2)
    first = claimed(store)
    write(engine, 2, start=2)
    store.mark_sent(first)
    second = claimed(store)
    assert second.envelopes == (envelope(2), envelope(3))
    store.release(second)


def test_concurrent_relays_never_send_a_row_twice(
    engine: Engine, stores: list[OutboxStore]
) -> None:
    write(engine, 300)
    relays = [open_store(engine, LEASE, keep_sent=True) for _ in range(4)]
    stores.extend(relays)
    sent: list[list[str]] = [[] for _ in relays]
    errors: list[BaseException] = []

    def relay(index: int) -> None:
        try:
            for _ in range(2_000):  # bounded: 300 rows in batches of 7 need far fewer rounds
                claim = relays[index].claim(7)
                if claim is None:
                    if not relays[index].pending_ids():
                        return
                    time.sleep(0.001)
                    continue
                sent[index] += [e.id for e in claim.envelopes]
                assert relays[index].mark_sent(claim), "a live lease was lost"
        except BaseException as exc:
            errors.append(exc)
            raise

    threads = [threading.Thread(target=relay, args=(n,)) for n in range(len(relays))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    every = [event_id for mine in sent for event_id in mine]
    assert sorted(every) == sorted(envelope(n).id for n in range(300))


def test_sent_rows_are_kept_then_purged_after_retention(engine: Engine, store: OutboxStore) -> None:
    write(engine, 4)
    store.mark_sent(claimed(store))
    stats = store.stats()
    assert (stats.backlog, stats.oldest_pending_age_s, stats.sent_retained) == (0, None, 4)
    assert store.purge_sent(timedelta(hours=1)) == 0
    assert store.purge_sent(timedelta(seconds=-1)) == 4
    assert store.stats().sent_retained == 0


def test_a_released_claim_is_taken_again_at_once(engine: Engine, store: OutboxStore) -> None:
    write(engine, 2)
    first = claimed(store)
    store.release(first)
    again = claimed(store)
    assert again.envelopes == first.envelopes
    store.release(again)
    stats = store.stats()
    assert stats.backlog == 2 and stats.oldest_pending_age_s is not None


def taken_ahead(store: OutboxStore) -> None:
    """Wait until a PostgreSQL store has taken its next batch ahead (white box: without the
    wait the helper thread may not have started, and the test would prove nothing)."""
    ahead = getattr(store, "_next", None)
    if engine_is_postgres(store):
        assert ahead is not None, "a full claim takes the next batch ahead"
        ahead.result()


def engine_is_postgres(store: OutboxStore) -> bool:
    return store.engine.dialect.name == "postgresql"


def test_after_a_release_the_next_claim_starts_again_from_the_oldest_row(
    engine: Engine, store: OutboxStore
) -> None:
    """On PostgreSQL a full claim makes the store take the next batch ahead: released too."""
    write(engine, 20)
    first = claimed(store, 10)
    taken_ahead(store)
    store.release(first)
    again = claimed(store, 10)
    assert again.envelopes == first.envelopes
    store.mark_sent(again)
    rest = claimed(store, 10)
    assert rest.envelopes == tuple(envelope(n) for n in range(10, 20))
    store.mark_sent(rest)
    assert store.claim(10) is None


def test_a_closed_store_holds_nothing_back_from_other_relays(
    engine: Engine, stores: list[OutboxStore]
) -> None:
    """SQLite: the lease is given up. PostgreSQL: the batch taken ahead is given back."""
    first = open_store(engine, LEASE, keep_sent=True)
    second = open_store(engine, LEASE, keep_sent=True)
    stores += [first, second]
    write(engine, 20)
    assert first.mark_sent(claimed(first, 10))
    taken_ahead(first)
    first.close()
    rest = claimed(second, 10)
    assert rest.envelopes == tuple(envelope(n) for n in range(10, 20))
    second.mark_sent(rest)


def test_the_rows_of_a_relay_that_died_mid_batch_are_sent_by_another(
    engine: Engine, stores: list[OutboxStore]
) -> None:
    """PostgreSQL rolls a dead relay's transaction back; on SQLite its lease lapses."""
    dead = open_store(engine, timedelta(milliseconds=50), keep_sent=True)
    survivor = open_store(engine, LEASE, keep_sent=True)
    stores += [dead, survivor]
    write(engine, 3)
    lost = claimed(dead)
    if engine.dialect.name != "sqlite":
        lost_connection = lost.connection  # type: ignore[attr-defined]
        lost_connection.invalidate()  # the process is gone: so is its connection
    time.sleep(0.1)
    again = claimed(survivor)
    assert again.envelopes == lost.envelopes, "sent again: a duplicate, never a loss"
    assert survivor.mark_sent(again)
    assert survivor.claim(10) is None


def test_sqlite_a_relay_whose_lease_lapsed_cannot_move_the_watermark(
    sqlite_engine: Engine,
) -> None:
    stalled = open_store(sqlite_engine, timedelta(milliseconds=50), keep_sent=True)
    other = open_store(sqlite_engine, LEASE, keep_sent=True)
    try:
        write(sqlite_engine, 3)
        late = claimed(stalled)
        time.sleep(0.1)
        taken = claimed(other)
        aside = [(late.seqs[0], "its own view of the first row")]
        assert not stalled.mark_sent(late, aside), "its claim lapsed: the other relay's rows"
        assert other.stats().set_aside == 0, "a relay without the lease writes nothing"
        assert other.mark_sent(taken)
        assert other.stats().backlog == 0
    finally:
        stalled.close()
        other.close()


def test_sqlite_closing_a_store_hands_the_lease_over_at_once(sqlite_engine: Engine) -> None:
    first = open_store(sqlite_engine, LEASE, keep_sent=True)
    second = open_store(sqlite_engine, LEASE, keep_sent=True)
    try:
        write(sqlite_engine, 2)
        claimed(first)
        assert second.claim(10) is None, "the lease is first's"
        first.close()
        assert len(claimed(second).envelopes) == 2
        with sqlite_engine.connect() as connection:
            holder = connection.execute(select(outbox_cursor.c.holder)).scalar_one()
        assert holder == second.holder  # type: ignore[attr-defined]
    finally:
        first.close()
        second.close()


def test_rows_set_aside_are_kept_apart_with_their_reason_and_never_sent(
    engine: Engine, store: OutboxStore
) -> None:
    write(engine, 2)
    write_unreadable(engine, "bad", "[1, 2]")
    claim = claimed(store)
    bad_seq = claim.seqs[-1]
    assert store.mark_sent(claim, [(bad_seq, "payload is a JSON list")])
    stats = store.stats()
    assert (stats.backlog, stats.sent_retained, stats.set_aside) == (0, 2, 1)
    assert store.claim(10) is None
    assert store.purge_sent(timedelta(seconds=-1)) == 2
    with engine.connect() as connection:
        kept = connection.execute(
            select(
                outbox_set_aside.c.event_id, outbox_set_aside.c.payload, outbox_set_aside.c.reason
            )
        ).all()
    assert [tuple(row) for row in kept] == [("bad", "[1, 2]", "payload is a JSON list")]


def test_without_retention_sent_rows_go_at_once_or_with_the_next_purge(
    engine: Engine, stores: list[OutboxStore]
) -> None:
    """PostgreSQL deletes them as it sends them; SQLite's next purge (every second) does."""
    store = open_store(engine, LEASE, keep_sent=False)
    stores.append(store)
    write(engine, 3)
    store.mark_sent(claimed(store))
    retained = store.stats().sent_retained
    assert retained == (3 if engine.dialect.name == "sqlite" else 0)
    store.purge_sent(timedelta(0))
    assert store.stats().sent_retained == 0


def test_flask_events_stats_shows_the_outbox_backlog(tmp_path: Path) -> None:
    import json

    from app.core.events import event_bus
    from tests.support.schema import make_app

    app = make_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'stats.db'}",
            "EVENTBUS_OUTBOX": True,
            "EVENTBUS_OUTBOX_RELAY": "none",
            "TESTING": True,
        }
    )
    try:
        store = app.extensions["eventbus_outbox"].store
        with Session(store.engine) as session:
            OutboxStore.add(session, envelope(1))
            session.commit()
        runner = app.test_cli_runner()
        table = runner.invoke(args=["events", "stats"])
        assert "outbox: 1 unsent, oldest " in table.output
        assert "0 sent kept for retention, 0 set aside" in table.output
        data = json.loads(runner.invoke(args=["events", "stats", "--json"]).output)
        assert data[-1] == {
            "transport": "outbox",
            "backlog": 1,
            "oldest_pending_age_s": data[-1]["oldest_pending_age_s"],
            "sent_retained": 0,
            "set_aside": 0,
        }
    finally:
        event_bus.remove_owned("loader")


def test_other_databases_are_refused_with_a_clear_error() -> None:
    mysql: Any = SimpleNamespace(dialect=SimpleNamespace(name="mysql"))
    with pytest.raises(ConfigurationError, match="supports SQLite and PostgreSQL, not mysql"):
        open_store(mysql, LEASE, keep_sent=True)
