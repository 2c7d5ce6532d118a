"""The outbox on SQLite: one relay at a time advances a watermark.

SQLite has one writer at a time and ``seq`` only grows (``AUTOINCREMENT``), so a row that a
reader cannot see yet has a higher ``seq`` than every row it can: rows become visible in
``seq`` order. A relay therefore needs no per-row bookkeeping. ``eventbus_outbox_cursor``
holds ``last_seq`` (every row at or below it is sent) and a lease naming the relay allowed to
advance it; that relay reads the rows above the watermark, sends them, and moves the
watermark with one small ``UPDATE`` per batch, which also renews its lease. Other relays (the
threads of other web processes) stand by and take over when the lease expires, which is also
how a relay that died is replaced; its last batch may then be sent again.

The relay writes through its own connections with ``PRAGMA synchronous=NORMAL``: a watermark
move lost to a power cut only makes a batch go out again (duplicates, which consumers absorb),
never a loss. The requests' own writes keep the app's settings.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.core.persistence.clock import utcnow
from app.db import tune_sqlite

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
from .table import outbox, outbox_cursor

__all__ = ["CURSOR_NAME", "SqliteOutboxStore"]

CURSOR_NAME = "relay"
"""The one ``eventbus_outbox_cursor`` row."""


class SqliteOutboxStore(OutboxStore):
    """Watermark and lease on SQLite. One instance is one relay (``holder``); use it from one
    thread at a time (the relay's)."""

    def __init__(self, engine: Engine, lease: timedelta, keep_sent: bool) -> None:
        super().__init__(engine, lease, keep_sent)
        self.holder = os.urandom(8).hex()
        self._engine, self._own_engine = _relay_engine(engine)
        self._watermark = 0
        self._lease_until: datetime | None = None

    def claim(self, limit: int) -> Claim | None:
        now = utcnow()
        renew = self._lease_until is None or self._lease_until - now < self.lease / 2
        if renew and not self._take_lease(now):
            return None
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(*ROW_COLUMNS)
                .where(outbox.c.seq > self._watermark)
                .order_by(outbox.c.seq)
                .limit(limit)
            ).all()
        return read_rows(rows) if rows else None

    def mark_sent(self, claim: Claim, set_aside: Sequence[tuple[int, str]] = ()) -> bool:
        """Move the watermark past ``claim`` and renew the lease, in one small write (and move
        the rows of ``set_aside``). A relay whose lease lapsed writes nothing."""
        until = utcnow() + self.lease
        with self._engine.begin() as connection:
            moved = connection.execute(
                update(outbox_cursor)
                .where(
                    outbox_cursor.c.name == CURSOR_NAME,
                    outbox_cursor.c.holder == self.holder,
                    outbox_cursor.c.last_seq == self._watermark,
                )
                .values(last_seq=claim.seqs[-1], lease_until=until)
            ).rowcount
            if moved == 1:
                envelopes = dict(zip(claim.seqs, claim.envelopes, strict=True))
                for seq, reason in set_aside:
                    connection.execute(set_aside_row(seq, envelopes[seq], reason))
                    connection.execute(delete(outbox).where(outbox.c.seq == seq))
        if moved != 1:
            self._lease_until = None
            return False
        self._watermark, self._lease_until = claim.seqs[-1], until
        return True

    def release(self, claim: Claim) -> None:
        """Nothing to undo: the watermark did not move, so the rows are read again."""

    def purge_sent(self, older_than: timedelta) -> int:
        sent = outbox.c.seq <= self._stored_watermark()
        old = outbox.c.created_at < utcnow() - older_than
        return purge_in_chunks(self._engine, outbox, sent, old)

    def stats(self) -> OutboxStats:
        with self._engine.connect() as connection:
            watermark = _watermark_of(connection)
            unsent = outbox.c.seq > watermark
            backlog = connection.execute(select(func.count()).where(unsent)).scalar_one()
            oldest = connection.execute(
                select(outbox.c.created_at).where(unsent).order_by(outbox.c.seq).limit(1)
            ).scalar()
            sent = connection.execute(
                select(func.count()).where(outbox.c.seq <= watermark)
            ).scalar_one()
            aside = count_set_aside(connection)
        return OutboxStats(int(backlog), age_of(oldest), int(sent), int(aside))

    def pending_ids(self) -> Sequence[str]:
        with self._engine.connect() as connection:
            watermark = _watermark_of(connection)
            query = select(outbox.c.event_id).where(outbox.c.seq > watermark)
            return connection.execute(query.order_by(outbox.c.seq)).scalars().all()

    def close(self) -> None:
        """Give the lease up (another relay may take over at once) and close connections."""
        if self._lease_until is not None:
            self._lease_until = None
            with self._engine.begin() as connection:
                connection.execute(
                    update(outbox_cursor)
                    .where(outbox_cursor.c.holder == self.holder)
                    .values(holder=None, lease_until=None)
                )
        if self._own_engine:
            self._engine.dispose()

    def _take_lease(self, now: datetime) -> bool:
        """Take or renew the lease unless another relay's is live; load the watermark."""
        with self._engine.connect() as connection:  # a read first: standing by writes nothing
            row = connection.execute(
                select(outbox_cursor.c.holder, outbox_cursor.c.lease_until).where(
                    outbox_cursor.c.name == CURSOR_NAME
                )
            ).first()
        if row is not None and _held_by_another(row.holder, row.lease_until, self.holder, now):
            return False
        until = now + self.lease
        try:
            with self._engine.begin() as connection:
                if row is None:
                    connection.execute(
                        insert(outbox_cursor).values(
                            name=CURSOR_NAME, last_seq=0, holder=self.holder, lease_until=until
                        )
                    )
                    watermark = 0
                else:
                    taken = connection.execute(
                        update(outbox_cursor)
                        .where(
                            outbox_cursor.c.name == CURSOR_NAME,
                            or_(
                                outbox_cursor.c.holder == self.holder,
                                outbox_cursor.c.holder.is_(None),
                                outbox_cursor.c.lease_until < now,
                            ),
                        )
                        .values(holder=self.holder, lease_until=until)
                        .returning(outbox_cursor.c.last_seq)
                    ).first()
                    if taken is None:
                        return False
                    watermark = taken.last_seq
        except IntegrityError:  # another relay created the cursor row first
            return False
        self._watermark, self._lease_until = watermark, until
        return True

    def _stored_watermark(self) -> int:
        with self._engine.connect() as connection:
            return _watermark_of(connection)


def _held_by_another(holder: str | None, until: datetime | None, me: str, now: datetime) -> bool:
    return holder not in (None, me) and until is not None and until > now


def _watermark_of(connection: Any) -> int:
    value = connection.execute(
        select(outbox_cursor.c.last_seq).where(outbox_cursor.c.name == CURSOR_NAME)
    ).scalar()
    return int(value or 0)


def _relay_engine(engine: Engine) -> tuple[Engine, bool]:
    """An engine of the relay's own for a SQLite file (``synchronous=NORMAL``, WAL, busy
    timeout), and whether it is new; an in-memory database can only share ``engine``."""
    if engine.url.database in (None, "", ":memory:"):
        return engine, False
    own = create_engine(engine.url)
    tune_sqlite(own)

    @event.listens_for(own, "connect")
    def _relaxed_sync(connection: Any, record: Any) -> None:
        connection.execute("PRAGMA synchronous = NORMAL")

    return own, True
