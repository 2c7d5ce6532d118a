"""Reading and writing the outbox table. No broker here: the relay does the sending.

The write path is the same everywhere: :meth:`OutboxStore.add` inserts a row in the caller's
transaction. How a relay takes rows and marks them sent depends on the database, because the
cheapest safe scheme differs (figures in docs/outbox.md):

- SQLite (:class:`~app.core.outbox.sqlite_store.SqliteOutboxStore`): one writer at a time,
  so rows become visible in ``seq`` order. One relay holds a lease and advances a watermark:
  one tiny write per batch, rows read in order, nothing written per row.
- PostgreSQL (:class:`~app.core.outbox.locking_store.LockingOutboxStore`):
  rows are taken with ``FOR UPDATE SKIP LOCKED`` and deleted in a transaction held open
  across the send, so any number of relays work side by side and a relay that dies simply
  rolls back.

Both hand the relay a :class:`Claim`; :meth:`OutboxStore.mark_sent` or
:meth:`OutboxStore.release` ends it. The one path by which a row is sent twice is a relay that
sent it and died (or stalled past its lease) before ``mark_sent``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, Insert, Table, delete, func, insert, select
from sqlalchemy.orm import Session

from app.core.events.envelope import Envelope, trace_context
from app.core.events.exceptions import ConfigurationError
from app.core.persistence.clock import utcnow

from .table import outbox, outbox_set_aside

__all__ = ["ROW_COLUMNS", "Claim", "OutboxStats", "OutboxStore", "open_store", "set_aside_row"]

ROW_COLUMNS = (
    outbox.c.seq,
    outbox.c.event_id,
    outbox.c.event_type,
    outbox.c.payload,
    outbox.c.correlation_id,
    outbox.c.causation_id,
    outbox.c.producer,
    outbox.c.version,
    outbox.c.occurred_at,
    outbox.c.traceparent,
    outbox.c.tracestate,
)
"""What a relay reads of a row, in the order :func:`read_rows` expects."""

PURGE_CHUNK = 5_000
"""Rows deleted per statement by a purge, so no purge holds a write lock for long."""


@dataclass(frozen=True)
class Claim:
    """A batch taken by one relay: its rows' ``seq`` and ``envelopes``, in the same order."""

    seqs: tuple[int, ...]
    envelopes: tuple[Envelope, ...]


@dataclass(frozen=True)
class OutboxStats:
    """The backlog (rows not yet sent), the age of its oldest row, sent rows still retained,
    and rows set aside because they could not be read back."""

    backlog: int
    oldest_pending_age_s: float | None
    sent_retained: int
    set_aside: int


class OutboxStore(ABC):
    """The outbox table through ``engine``. One instance is one relay's identity, used from
    that relay's thread; :meth:`add` is static and serves any thread's session."""

    def __init__(self, engine: Engine, lease: timedelta, keep_sent: bool) -> None:
        self.engine = engine
        self.lease = lease
        self.keep_sent = keep_sent

    @staticmethod
    def add(session: Session, envelope: Envelope) -> None:
        """Write ``envelope`` in ``session``'s current transaction (committed with it)."""
        session.execute(insert(outbox).values(**_row_values(envelope)))

    @abstractmethod
    def claim(self, limit: int) -> Claim | None:
        """Take up to ``limit`` unsent rows, oldest first; ``None`` when there are none (or,
        on SQLite, when another relay holds the lease)."""

    @abstractmethod
    def mark_sent(self, claim: Claim, set_aside: Sequence[tuple[int, str]] = ()) -> bool:
        """Record that ``claim``'s rows were handed to their transports, except the rows of
        ``set_aside`` (``(seq, reason)``: unreadable), which are kept, never sent, with their
        reason. ``False`` when the claim had lapsed (its lease expired and another relay took
        over): that relay sends the rows again."""

    @abstractmethod
    def release(self, claim: Claim) -> None:
        """Give ``claim``'s rows back unsent (the send failed): they are taken again next."""

    @abstractmethod
    def purge_sent(self, older_than: timedelta) -> int:
        """Delete sent rows older than ``older_than``; return how many."""

    @abstractmethod
    def stats(self) -> OutboxStats:
        """Backlog size, oldest unsent row's age, sent rows retained, rows set aside."""

    @abstractmethod
    def pending_ids(self) -> Sequence[str]:
        """Event ids not yet sent, in order (tests and tools)."""

    @abstractmethod
    def close(self) -> None:
        """Let go of what this relay holds (a lease, pooled connections). Idempotent; the
        store stays usable (it takes what it needs again)."""


def open_store(engine: Engine, lease: timedelta, keep_sent: bool) -> OutboxStore:
    """The store for ``engine``'s database: watermark on SQLite, row locks on PostgreSQL.
    :class:`ConfigurationError` for any other database (none is tested)."""
    if engine.dialect.name not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"EVENTBUS_OUTBOX supports SQLite and PostgreSQL, not {engine.dialect.name}"
        )
    if engine.dialect.name == "sqlite":
        from .sqlite_store import SqliteOutboxStore

        return SqliteOutboxStore(engine, lease, keep_sent)
    from .locking_store import LockingOutboxStore

    return LockingOutboxStore(engine, lease, keep_sent)


def read_rows(rows: Iterable[Sequence[Any]]) -> Claim:
    """Rows selected as :data:`ROW_COLUMNS`, as a claim. Payloads stay as stored (the JSON
    text that goes on the wire) and are parsed only if a transport asks for the dict.

    A row's trace context is kept only when well-formed (``stamps.trace_context``): a
    malformed ``traceparent`` or ``tracestate`` (a row edited by hand) is dropped, never an
    error, so the event still goes out (its consumer span then starts a trace of its own).
    """
    seqs: list[int] = []
    envelopes: list[Envelope] = []
    for row in rows:
        seq, event_id, kind, text, correlation, causation, producer, version, at, parent, state = (
            row
        )
        if parent is not None:
            kept = trace_context(parent, state)
            parent, state = kept.get("traceparent"), kept.get("tracestate")
        seqs.append(seq)
        envelopes.append(
            Envelope.with_encoded_payload(
                id=event_id,
                type=kind,
                encoded_payload=text,
                correlation_id=correlation,
                causation_id=causation,
                producer=producer,
                version=version,
                occurred_at=at,
                traceparent=parent,
                tracestate=state,
            )
        )
    return Claim(tuple(seqs), tuple(envelopes))


def set_aside_row(seq: int, envelope: Envelope, reason: str) -> Insert:
    """The insert that keeps row ``seq`` (``envelope``) in ``eventbus_outbox_set_aside``."""
    return insert(outbox_set_aside).values(
        seq=seq, **_row_values(envelope), reason=reason[:500], set_aside_at=utcnow()
    )


def _row_values(envelope: Envelope) -> dict[str, Any]:
    """The envelope columns of an outbox row (the payload as its wire text, never re-parsed),
    with its trace context only if well-formed (so it fits its columns: a bad one is dropped,
    never an error that would roll the caller's transaction back)."""
    parent, state = envelope.traceparent, None
    if parent is not None:
        kept = trace_context(parent, envelope.tracestate)
        parent, state = kept.get("traceparent"), kept.get("tracestate")
    return {
        "event_id": envelope.id,
        "event_type": envelope.type,
        "version": envelope.version,
        "occurred_at": envelope.occurred_at,
        "producer": envelope.producer,
        "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id,
        "payload": envelope.payload_json(),
        "created_at": utcnow(),
        "traceparent": parent,
        "tracestate": state,
    }


def count_set_aside(connection: Any) -> int:
    """How many rows were set aside."""
    return int(connection.execute(select(func.count()).select_from(outbox_set_aside)).scalar_one())


def purge_in_chunks(
    engine: Engine, table: Table, sent: ColumnElement[bool], old: ColumnElement[bool]
) -> int:
    """Delete ``table``'s rows that are ``sent`` and ``old``, :data:`PURGE_CHUNK` at a time,
    oldest ``seq`` first (rows get older with ``seq``, so a chunk with a young row is the last).
    Each chunk is its own short transaction."""
    total = 0
    while True:
        first = (
            select(table.c.seq).where(sent).order_by(table.c.seq).limit(PURGE_CHUNK)
        ).scalar_subquery()
        with engine.begin() as connection:
            deleted = int(
                connection.execute(delete(table).where(table.c.seq.in_(first), old)).rowcount or 0
            )
        total += deleted
        if deleted < PURGE_CHUNK:
            return total


def age_of(created: datetime | None) -> float | None:
    """Seconds since ``created`` (``None`` for none)."""
    if created is None:
        return None
    if created.tzinfo is None:  # in case a driver returns an aggregate naive
        created = created.replace(tzinfo=UTC)
    return max(0.0, (utcnow() - created).total_seconds())
