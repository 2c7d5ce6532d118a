"""Reading and writing the outbox table. No broker here: the relay does the sending.

Claiming is one atomic ``UPDATE`` of the first ``n`` due rows that stamps a fresh claim token
and a lease; its ``WHERE`` re-checks that each row is still unclaimed. On PostgreSQL the due
rows come from a CTE that takes ``FOR UPDATE SKIP LOCKED`` (a CTE runs once; an ``IN``
subquery with ``LIMIT`` may be re-run and over-claim), so concurrent relays (several web
processes, a standalone relay) never claim the same row. SQLite runs each statement under its
database write lock, which gives the same exclusion. A lease that expires (its relay died)
makes the rows claimable again: the one path by which an event can be sent twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from app.core.events.envelope import Envelope
from app.core.persistence.clock import utcnow

from .table import outbox

__all__ = ["Claim", "OutboxStats", "OutboxStore"]


@dataclass(frozen=True)
class Claim:
    """A leased batch: ``token`` identifies it; ``envelopes`` in ``seq`` order."""

    token: str
    seqs: tuple[int, ...]
    envelopes: tuple[Envelope, ...]


@dataclass(frozen=True)
class OutboxStats:
    """The backlog (rows not yet sent), the age of its oldest row, and sent rows retained."""

    backlog: int
    oldest_pending_age_s: float | None
    sent_retained: int


class OutboxStore:
    """The outbox table through ``engine``; thread safe (each call uses its own connection)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def add(session: Session, envelope: Envelope) -> None:
        """Write ``envelope`` in ``session``'s current transaction (committed with it)."""
        now = utcnow()
        session.execute(
            insert(outbox).values(
                event_id=envelope.id,
                event_type=envelope.type,
                envelope=json.dumps(envelope.to_fields(), separators=(",", ":")),
                created_at=now,
                available_at=now,
                attempts=0,
            )
        )

    def claim(self, limit: int, lease: timedelta) -> Claim | None:
        """Lease up to ``limit`` pending rows that are due; ``None`` when there are none."""
        token = os.urandom(16).hex()
        now = utcnow()
        claimable = and_(
            outbox.c.sent_at.is_(None),
            outbox.c.available_at <= now,
            or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
        )
        due = select(outbox.c.seq).where(claimable).order_by(outbox.c.seq).limit(limit)
        if self.engine.dialect.name == "postgresql":
            # A CTE runs once; an IN (subquery) with LIMIT may be re-run and claim more.
            locked = due.with_for_update(skip_locked=True).cte("due")
            statement = update(outbox).where(outbox.c.seq == locked.c.seq, claimable)
        else:
            statement = update(outbox).where(outbox.c.seq.in_(due.scalar_subquery()), claimable)
        claimed = statement.values(claim_token=token, claimed_until=now + lease).returning(
            outbox.c.seq, outbox.c.envelope
        )
        with self.engine.begin() as connection:
            rows = sorted(connection.execute(claimed).all())
        if not rows:
            return None
        envelopes = tuple(_decode(row.envelope) for row in rows)
        return Claim(token, tuple(row.seq for row in rows), envelopes)

    def mark_sent(self, claim: Claim) -> None:
        """Record that every row of ``claim`` was handed to its transports."""
        with self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.seq.in_(claim.seqs), outbox.c.claim_token == claim.token)
                .values(sent_at=utcnow(), claim_token=None, claimed_until=None)
            )

    def release(self, claim: Claim, error: str, retry_in: timedelta) -> None:
        """Give the rows of ``claim`` back, due again after ``retry_in``, with the error."""
        with self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.seq.in_(claim.seqs), outbox.c.claim_token == claim.token)
                .values(
                    claim_token=None,
                    claimed_until=None,
                    attempts=outbox.c.attempts + 1,
                    last_error=error[:500],
                    available_at=utcnow() + retry_in,
                )
            )

    def purge_sent(self, older_than: timedelta) -> int:
        """Delete rows sent more than ``older_than`` ago; return how many."""
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(outbox).where(outbox.c.sent_at < utcnow() - older_than)
            )
        return int(result.rowcount or 0)

    def stats(self) -> OutboxStats:
        """Backlog size, oldest pending row's age, sent rows still retained."""
        with self.engine.connect() as connection:
            backlog, oldest = connection.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(
                    outbox.c.sent_at.is_(None)
                )
            ).one()
            sent = connection.execute(
                select(func.count()).where(outbox.c.sent_at.is_not(None))
            ).scalar_one()
        return OutboxStats(int(backlog), _age(oldest), int(sent))

    def pending_ids(self) -> Sequence[str]:
        """Event ids not yet sent, in order (tests and tools)."""
        with self.engine.connect() as connection:
            return (
                connection.execute(
                    select(outbox.c.event_id)
                    .where(outbox.c.sent_at.is_(None))
                    .order_by(outbox.c.seq)
                )
                .scalars()
                .all()
            )


def _decode(text: str) -> Envelope:
    """A row's envelope. Rows are written by :meth:`OutboxStore.add`, so the common case skips
    the field-by-field checks (~2× faster); anything unexpected goes through them."""
    fields = json.loads(text)
    try:
        payload_text = fields["payload"]
        return Envelope(
            fields["id"],
            fields["type"],
            json.loads(payload_text),
            fields["correlation_id"],
            fields["causation_id"] or None,
            fields["producer"],
            int(fields["version"]),
            fields["occurred_at"],
            payload_text,
        )
    except (KeyError, TypeError, ValueError):
        return Envelope.from_fields(fields)


def _age(created: datetime | None) -> float | None:
    if created is None:
        return None
    if created.tzinfo is None:  # in case a driver returns the aggregate naive
        created = created.replace(tzinfo=UTC)
    return max(0.0, (utcnow() - created).total_seconds())
