"""The outbox rows carry the W3C trace context: written with the envelope, read back by the
relay, kept when set aside; a malformed one (a row edited by hand) is dropped, never an error.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from app.core.events.envelope import Envelope
from app.core.outbox import Claim, OutboxStore, outbox, outbox_set_aside
from app.core.outbox.store import _row_values

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRACESTATE = "vendor=opaque,other=x"


def envelope(n: int, traceparent: str | None = None, tracestate: str | None = None) -> Envelope:
    return Envelope(
        id=f"{n:032x}",
        type="patient.created",
        payload={"patient_id": f"p{n}", "clinic_id": "c1"},
        correlation_id="corr",
        producer="patients",
        occurred_at="2026-11-22T10:00:00.000000Z",
        traceparent=traceparent,
        tracestate=tracestate,
    )


def write(engine: Engine, *envelopes: Envelope) -> None:
    with Session(engine) as session:
        for item in envelopes:
            OutboxStore.add(session, item)
        session.commit()


def claimed(store: OutboxStore) -> Claim:
    claim = store.claim(100)
    assert claim is not None
    return claim


def trace_of(claim: Claim) -> list[tuple[str | None, str | None]]:
    return [(e.traceparent, e.tracestate) for e in claim.envelopes]


def test_rows_round_trip_with_and_without_trace_context(engine: Engine, store: OutboxStore) -> None:
    written = [
        envelope(0),
        envelope(1, TRACEPARENT),
        envelope(2, TRACEPARENT, TRACESTATE),
        envelope(3, None, TRACESTATE),  # a tracestate alone means nothing: not kept
    ]
    write(engine, *written)
    claim = claimed(store)
    assert claim.envelopes == tuple(written)
    assert trace_of(claim) == [
        (None, None),
        (TRACEPARENT, None),
        (TRACEPARENT, TRACESTATE),
        (None, None),
    ]
    assert store.mark_sent(claim)


def test_a_malformed_trace_context_is_not_written(engine: Engine, store: OutboxStore) -> None:
    """Never an insert that fails on a too-long value (that would roll the request back)."""
    write(
        engine,
        envelope(0, "not-a-traceparent", TRACESTATE),
        envelope(1, TRACEPARENT + "-and-more"),
        envelope(2, TRACEPARENT, "x" * 513),
        envelope(3, TRACEPARENT, "bad\nstate"),
    )
    with engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.traceparent, outbox.c.tracestate).order_by(outbox.c.seq)
        ).all()
    assert [tuple(row) for row in rows] == [
        (None, None),
        (None, None),
        (TRACEPARENT, None),
        (TRACEPARENT, None),
    ]
    claim = claimed(store)
    assert [e.id for e in claim.envelopes] == [envelope(n).id for n in range(4)]
    assert store.mark_sent(claim)


def test_a_hand_edited_trace_context_is_dropped_and_the_row_still_goes_out(
    engine: Engine, store: OutboxStore
) -> None:
    write(engine, envelope(0, TRACEPARENT, TRACESTATE), envelope(1, TRACEPARENT, TRACESTATE))
    with engine.begin() as connection:
        first, second = connection.execute(select(outbox.c.seq).order_by(outbox.c.seq)).scalars()
        connection.execute(
            update(outbox).where(outbox.c.seq == first).values(traceparent="00-zz-zz-01")
        )
        connection.execute(
            update(outbox).where(outbox.c.seq == second).values(tracestate="bad\tstate")
        )
    claim = claimed(store)
    assert [e.id for e in claim.envelopes] == [envelope(0).id, envelope(1).id]
    assert trace_of(claim) == [(None, None), (TRACEPARENT, None)]
    assert [e.payload for e in claim.envelopes] == [envelope(0).payload, envelope(1).payload]
    assert store.mark_sent(claim)


def test_a_row_set_aside_keeps_its_trace_context(engine: Engine, store: OutboxStore) -> None:
    write(engine, envelope(0, TRACEPARENT, TRACESTATE), envelope(1))
    claim = claimed(store)
    assert store.mark_sent(claim, [(claim.seqs[0], "a reason")])
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                outbox_set_aside.c.event_id,
                outbox_set_aside.c.traceparent,
                outbox_set_aside.c.tracestate,
            )
        ).all()
    assert [tuple(row) for row in rows] == [(envelope(0).id, TRACEPARENT, TRACESTATE)]


def test_a_row_written_without_the_columns_reads_as_no_trace_context(
    engine: Engine, store: OutboxStore
) -> None:
    """A row from before the columns existed (``NULL`` after the migration)."""
    with engine.begin() as connection:
        values = {
            key: value
            for key, value in _row_values(envelope(0)).items()
            if key not in ("traceparent", "tracestate")
        }
        connection.execute(insert(outbox).values(**values))
    claim = claimed(store)
    assert trace_of(claim) == [(None, None)]
    assert store.mark_sent(claim)
