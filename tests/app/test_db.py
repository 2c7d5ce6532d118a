"""SQLite files: WAL mode and a busy timeout, even when many connections open a new file."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from app.db import _switch_to_wal, tune_sqlite


class LockedCursor:
    """Answers ``PRAGMA journal_mode = WAL`` with ``failures`` errors, then succeeds."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        self.attempts = 0

    def execute(self, statement: str) -> None:
        assert statement == "PRAGMA journal_mode = WAL"
        self.attempts += 1
        if self.failures:
            raise sqlite3.OperationalError(self.failures.pop(0))


def test_the_switch_to_wal_waits_while_the_file_is_locked() -> None:
    """SQLite refuses the switch at once, without its busy timeout, when another connection
    is in the way (seen when relays and requests open a new file together)."""
    cursor = LockedCursor(["database is locked", "database is locked"])
    _switch_to_wal(cursor)
    assert cursor.attempts == 3


def test_the_switch_to_wal_does_not_hide_other_errors() -> None:
    cursor = LockedCursor(["disk I/O error"])
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        _switch_to_wal(cursor)
    assert cursor.attempts == 1


def test_many_engines_writing_to_a_new_file_at_once_all_land_in_wal_mode(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    plain = create_engine(url)  # the file exists, not in WAL mode yet (a first deploy)
    with plain.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    plain.dispose()
    engines: list[Engine] = [create_engine(url) for _ in range(8)]
    for engine in engines:
        tune_sqlite(engine)
    start = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def use(engine: Engine, n: int) -> None:
        try:
            start.wait()
            for _ in range(5):  # the others' writes stand in the way of the first switch
                with engine.begin() as connection:
                    connection.exec_driver_sql(f"INSERT INTO t VALUES ({n})")
                engine.dispose()  # the next round opens a new connection, as a new process
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=use, args=(e, n)) for n, e in enumerate(engines)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with engines[0].connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 40
    finally:
        for engine in engines:
            engine.dispose()
