"""One migration at a time per database, whoever starts it.

Two processes upgrading together (two containers of a deploy, a developer's ``make run`` next
to a test) would both see a revision missing and both try to apply it. So an upgrade holds:

- on PostgreSQL, a transaction-level advisory lock (``pg_advisory_xact_lock``), taken as the
  first statement of the transaction that applies the revisions and released by its commit;
- on a SQLite file, an exclusive ``flock`` on ``<database file>.migrate-lock`` beside it.

The second upgrader waits, then finds the database at head and does nothing.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text

__all__ = ["ADVISORY_LOCK_KEY", "file_lock", "take_advisory_lock"]

ADVISORY_LOCK_KEY = 0x6576_6275_736D  # "evbusm": the bus's migrations
"""The advisory lock's key on PostgreSQL (any bigint; fixed so every process agrees)."""


@contextmanager
def file_lock(engine: Engine) -> Iterator[None]:
    """Hold an exclusive lock beside a SQLite database file; no-op for any other database."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
        yield
        return
    lock_path = Path(f"{database}.migrate-lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def take_advisory_lock(connection: Connection) -> None:
    """On PostgreSQL, wait for the migration lock; it is released when the transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
