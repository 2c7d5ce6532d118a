"""The outbox on PostgreSQL (and any database with ``FOR UPDATE SKIP LOCKED``): row locks.

A claim opens a transaction and locks the oldest unsent rows with ``SELECT … FOR UPDATE SKIP
LOCKED``: other relays skip them and take the next ones, so any number of relays (one per
web process, standalone ones) work side by side without ever taking the same row. The
transaction stays open while the relay sends; ``mark_sent`` deletes the rows (copying a short
record to ``eventbus_outbox_sent`` when a retention is configured, in the same statement) and
commits; ``release`` rolls back. A relay that dies mid-batch loses its connection, the
database rolls its transaction back, and the rows are taken again: nothing to expire.

Rows become visible in commit order, not ``seq`` order, so with several relays (or a long
transaction committing late) events may go out in a different order than their ``seq``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import (
    Connection,
    Delete,
    Insert,
    RootTransaction,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    update,
)

from app.core.persistence.clock import UtcDateTime, utcnow

from .store import ROW_COLUMNS, Claim, OutboxStats, OutboxStore, age_of, purge_in_chunks, read_rows
from .table import outbox, outbox_sent

__all__ = ["LockingOutboxStore"]


@dataclass(frozen=True)
class _LockedClaim(Claim):
    """A claim whose rows stay locked by ``transaction`` until it is marked or released."""

    connection: Connection
    transaction: RootTransaction


class LockingOutboxStore(OutboxStore):
    """Row locks held across the send. ``lease`` is unused: locks end with the connection."""

    def claim(self, limit: int) -> Claim | None:
        connection = self.engine.connect()
        try:
            transaction = connection.begin()
            rows = connection.execute(
                select(*ROW_COLUMNS)
                .where(outbox.c.error.is_(None))
                .order_by(outbox.c.seq)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
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
        """Delete the sent rows (keeping their record), set the others aside; commit."""
        assert isinstance(claim, _LockedClaim), "a claim from another store"
        connection = claim.connection
        try:
            aside = {seq for seq, _ in set_aside}
            sent = [seq for seq in claim.seqs if seq not in aside]
            if sent:
                connection.execute(self._delete_sent(sent))
            for seq, reason in set_aside:
                connection.execute(update(outbox).where(outbox.c.seq == seq).values(error=reason))
            claim.transaction.commit()
        finally:
            connection.close()
        return True

    def release(self, claim: Claim) -> None:
        assert isinstance(claim, _LockedClaim), "a claim from another store"
        try:
            claim.transaction.rollback()
        finally:
            claim.connection.close()

    def purge_sent(self, older_than: timedelta) -> int:
        old = outbox_sent.c.sent_at < utcnow() - older_than
        return purge_in_chunks(self.engine, outbox_sent, true(), old)

    def stats(self) -> OutboxStats:
        unsent = outbox.c.error.is_(None)
        with self.engine.connect() as connection:
            backlog, oldest = connection.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(unsent)
            ).one()
            aside = connection.execute(select(func.count()).where(~unsent)).scalar_one()
            sent = connection.execute(select(func.count()).select_from(outbox_sent)).scalar_one()
        return OutboxStats(int(backlog), age_of(oldest), int(sent), int(aside))

    def pending_ids(self) -> Sequence[str]:
        with self.engine.connect() as connection:
            query = select(outbox.c.event_id).where(outbox.c.error.is_(None))
            return connection.execute(query.order_by(outbox.c.seq)).scalars().all()

    def close(self) -> None:
        """Nothing held between claims: locks end with each claim's transaction."""

    def _delete_sent(self, seqs: list[int]) -> Delete | Insert:
        """Delete the rows ``seqs``; with a retention, keep their record in one statement."""
        gone = delete(outbox).where(outbox.c.seq.in_(seqs))
        if not self.keep_sent:
            return gone
        record = gone.returning(
            outbox.c.seq, outbox.c.event_id, outbox.c.event_type, outbox.c.created_at
        ).cte("gone")
        return insert(outbox_sent).from_select(
            ["seq", "event_id", "event_type", "created_at", "sent_at"],
            select(
                record.c.seq,
                record.c.event_id,
                record.c.event_type,
                record.c.created_at,
                literal(utcnow(), UtcDateTime()),
            ),
        )
