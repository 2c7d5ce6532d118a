"""The SQLAlchemy handle shared by every module (each module owns its own tables).

SQLite files are opened in WAL mode with a busy timeout: the web process's request threads,
the outbox relay thread and worker processes all write to the same file, and WAL lets readers
run beside the writer and makes a commit one append and one fsync (``synchronous`` stays at
SQLite's default, so a committed transaction survives a crash).

Transactions on SQLite (every SQLite engine, files and ``:memory:``) follow SQLAlchemy's
documented pysqlite recipe: the driver's own transaction control is off
(``isolation_level = None``: it would run reads outside any transaction and begin one only at
the first INSERT/UPDATE/DELETE) and SQLAlchemy emits ``BEGIN`` itself when a transaction
starts. So every statement runs in the transaction, reads repeat, SAVEPOINTs nest for real, and
DDL is transactional. A connection whose execution options carry :data:`WRITE_UNIT` begins
with ``BEGIN IMMEDIATE`` instead: it takes the database's write lock before its first read
(waiting out the busy timeout behind another writer), which is what makes a read-modify-write
safe on SQLite, the way ``SELECT … FOR UPDATE`` does on PostgreSQL. Module code asks for it
through :func:`app.core.persistence.write_transaction`, not with the option directly.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

__all__ = ["WRITE_UNIT", "Model", "db", "tune_sqlite"]

SQLITE_BUSY_TIMEOUT_MS = 30_000

WRITE_UNIT = "eventbus_write_unit"
"""Connection execution option: this transaction writes; on SQLite it begins ``IMMEDIATE``."""


class Model(DeclarativeBase):
    """Base class of every module's models."""


db = SQLAlchemy(model_class=Model)


def tune_sqlite(engine: Engine) -> None:
    """On a SQLite engine: SQLAlchemy's transaction control (``BEGIN``, or ``BEGIN IMMEDIATE``
    for a :data:`WRITE_UNIT`) on every connection; WAL mode and a busy timeout on a *file*.
    Call it once per engine, before its first connection. Other databases: nothing."""
    if engine.dialect.name != "sqlite":
        return
    event.listen(engine, "connect", _driver_begins_nothing)
    event.listen(engine, "begin", _begin)
    if engine.url.database in (None, "", ":memory:"):
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


def _driver_begins_nothing(connection: Any, record: Any) -> None:
    """Turn pysqlite's implicit ``BEGIN`` off: :func:`_begin` emits it instead."""
    connection.isolation_level = None


def _begin(connection: Connection) -> None:
    """Begin the transaction SQLAlchemy starts: ``IMMEDIATE`` (write lock now) for a write unit."""
    write = bool(connection.get_execution_options().get(WRITE_UNIT))
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


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


def session_or_default(session: Session | scoped_session[Any] | None = None) -> Session:
    """The ``Session`` meant by an optional argument: ``None`` is the request's ``db.session``."""
    if session is None:
        return db.session()
    if isinstance(session, scoped_session):
        resolved: Session = session()
        return resolved
    return session
