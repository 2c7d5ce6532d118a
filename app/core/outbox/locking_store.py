"""The outbox on PostgreSQL: row locks taken with ``FOR UPDATE SKIP LOCKED``.

A claim opens a transaction and locks the oldest unsent rows with ``SELECT … FOR UPDATE SKIP
LOCKED``: other relays skip them and take the next ones, so any number of relays (one per
web process, standalone ones) work side by side without ever taking the same row. The
claim's one statement also deletes them (copying a short record to ``eventbus_outbox_sent``
when a retention is configured), and its transaction stays open while the relay sends;
``mark_sent`` commits, ``release`` rolls back and the rows reappear. A relay that dies
mid-batch loses its connection, the database rolls its transaction back, and the rows are
taken again: nothing to expire.

Rows become visible in commit order, not ``seq`` order, so with several relays (or a long
transaction committing late) events may go out in a different order than their ``seq``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    RootTransaction,
    Select,
    delete,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.sql.dml import ReturningDelete

from app.core.persistence.clock import UtcDateTime, utcnow

from .store import (
    ROW_COLUMNS,
    Claim,
    OutboxStats,
    OutboxStore,
    age_of,
    count_set_aside,
    purge_in_chunks,
    read_rows,
    set_aside_row,
)
from .table import outbox, outbox_sent

__all__ = ["LockingOutboxStore"]


@dataclass(frozen=True)
class _LockedClaim(Claim):
    """A claim whose rows are deleted by ``transaction``, which commits when they are marked
    sent and rolls back (the rows reappear) when they are released."""

    connection: Connection
    transaction: RootTransaction


class LockingOutboxStore(OutboxStore):
    """Row locks held across the send. ``lease`` is unused: locks end with the connection.

    While a full batch is being sent, the next one is already being taken, in a helper
    thread on a second connection (the database does that work while this process packs
    and sends): ``claim`` returns it at once. A released claim releases that one too, so a
    retry starts again from the oldest row.
    """

    def __init__(self, engine: Engine, lease: timedelta, keep_sent: bool) -> None:
        super().__init__(engine, lease, keep_sent)
        self._taker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventbus-outbox")
        self._next: Future[Claim | None] | None = None

    def claim(self, limit: int) -> Claim | None:
        """The next batch: the one taken ahead, if any, else taken now. Use from one thread."""
        ahead, self._next = self._next, None
        claim = ahead.result() if ahead is not None else self._take_now(limit)
        if claim is not None and len(claim.seqs) >= limit:  # more is likely waiting
            self._next = self._taker.submit(self._take_now, limit)
        return claim

    def _take_now(self, limit: int) -> Claim | None:
        """One statement: lock the oldest unlocked rows (``SKIP LOCKED``), delete them
        (keeping their record when a retention is set) and return them."""
        connection = self.engine.connect()
        try:
            transaction = connection.begin()
            # Losing this commit to a crash only makes the rows reappear: sent again, never
            # lost. So the relay does not wait for the WAL flush (requests still do).
            connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            rows = sorted(connection.execute(self._take(limit)).all(), key=itemgetter(0))
        except BaseException:
            connection.close()
            raise
        if not rows:
            transaction.rollback()
            connection.close()
            return None
        read = read_rows(rows)
        return _LockedClaim(read.seqs, read.envelopes, connection, transaction)

    def mark_sent(self, claim: Claim, set_aside: Sequence[tuple[int, str]] = ()) -> bool:
        """Keep the rows of ``set_aside`` with their reason; commit the others' delete."""
        assert isinstance(claim, _LockedClaim), "a claim from another store"
        connection = claim.connection
        try:
            reasons = dict(set_aside)
            for seq, envelope in zip(claim.seqs, claim.envelopes, strict=True):
                if seq in reasons:
                    connection.execute(set_aside_row(seq, envelope, reasons[seq]))
            if reasons and self.keep_sent:
                connection.execute(delete(outbox_sent).where(outbox_sent.c.seq.in_(reasons)))
            claim.transaction.commit()
        except BaseException:
            self._drop_next()  # the rows reappear: let the next claim start from them
            raise
        finally:
            connection.close()
        return True

    def release(self, claim: Claim) -> None:
        """Roll ``claim`` back, and the batch taken ahead of it: all their rows reappear."""
        _roll_back(claim)
        self._drop_next()

    def purge_sent(self, older_than: timedelta) -> int:
        old = outbox_sent.c.sent_at < utcnow() - older_than
        return purge_in_chunks(self.engine, outbox_sent, true(), old)

    def stats(self) -> OutboxStats:
        with self.engine.connect() as connection:
            backlog, oldest = connection.execute(
                select(func.count(), func.min(outbox.c.created_at))
            ).one()
            aside = count_set_aside(connection)
            sent = connection.execute(select(func.count()).select_from(outbox_sent)).scalar_one()
        return OutboxStats(int(backlog), age_of(oldest), int(sent), int(aside))

    def pending_ids(self) -> Sequence[str]:
        with self.engine.connect() as connection:
            query = select(outbox.c.event_id)
            return connection.execute(query.order_by(outbox.c.seq)).scalars().all()

    def close(self) -> None:
        """Give back the batch taken ahead, if any (claims handed out are the caller's)."""
        self._drop_next()

    def _drop_next(self) -> None:
        ahead, self._next = self._next, None
        if ahead is None:
            return
        try:
            claim = ahead.result()
        except Exception:
            return
        if claim is not None:
            _roll_back(claim)

    def _take(self, limit: int) -> Select[Any] | ReturningDelete[Any]:
        due = (
            select(outbox.c.seq)
            .order_by(outbox.c.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
        )
        gone = delete(outbox).where(outbox.c.seq == due.c.seq)
        if not self.keep_sent:
            return gone.returning(*ROW_COLUMNS)
        taken = gone.returning(*ROW_COLUMNS, outbox.c.created_at).cte("gone")
        record = insert(outbox_sent).from_select(
            ["seq", "event_id", "event_type", "created_at", "sent_at"],
            select(
                taken.c.seq,
                taken.c.event_id,
                taken.c.event_type,
                taken.c.created_at,
                literal(utcnow(), UtcDateTime()),
            ),
        )
        return select(*[taken.c[column.name] for column in ROW_COLUMNS]).add_cte(record.cte("kept"))


def _roll_back(claim: Claim) -> None:
    assert isinstance(claim, _LockedClaim), "a claim from another store"
    try:
        claim.transaction.rollback()
    finally:
        claim.connection.close()
