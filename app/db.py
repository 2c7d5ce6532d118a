"""The SQLAlchemy handle shared by every module (each module owns its own tables).

SQLite files are opened in WAL mode with a busy timeout: the web process's request threads,
the outbox relay thread and worker processes all write to the same file, and WAL lets readers
run beside the writer and makes a commit one append and one fsync (``synchronous`` stays at
SQLite's default, so a committed transaction survives a crash).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, event
from sqlalchemy.orm import DeclarativeBase

__all__ = ["Model", "db", "tune_sqlite"]

SQLITE_BUSY_TIMEOUT_MS = 30_000


class Model(DeclarativeBase):
    """Base class of every module's models."""


db = SQLAlchemy(model_class=Model)


def tune_sqlite(engine: Engine) -> None:
    """WAL mode and a busy timeout on every connection to a SQLite *file* (not :memory:)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @event.listens_for(engine, "connect")
    def _on_connect(connection: Any, record: Any) -> None:
        cursor = connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                _switch_to_wal(cursor)
        finally:
            cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Put the database file in WAL mode (it stays so: only its first connections get here).

    The switch needs the file to itself, and SQLite answers "database is locked" at once,
    without waiting out the busy timeout, when another connection is in the way (several
    processes or threads opening a new file together): retry for as long as the timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
