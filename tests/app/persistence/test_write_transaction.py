"""Write units: the lock comes before the first read, SAVEPOINTs nest, on SQLite and PostgreSQL.

These use plain SQLAlchemy sessions on an engine set up as the app does (``tune_sqlite``), so
they show the mechanism itself; the clinic's concurrent HTTP tests show what it buys.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.core.persistence import (
    TransactionUsageError,
    begin_write,
    in_write_unit,
    write_transaction,
)
from app.db import tune_sqlite
from tests.support.postgres import postgres_database

metadata = MetaData()
counter = Table(
    "write_unit_counter",
    metadata,
    Column("id", String(8), primary_key=True),
    Column("value", Integer, nullable=False),
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'units.db'}")
        tune_sqlite(made)
        yield from _with_table(made)
        return
    with postgres_database() as url:
        yield from _with_table(create_engine(url))


def _with_table(made: Engine) -> Iterator[Engine]:
    metadata.create_all(made)
    with made.begin() as connection:
        connection.execute(counter.insert().values(id="c", value=0))
    try:
        yield made
    finally:
        made.dispose()


def _value(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(counter.c.value)).scalar_one())


def test_increments_from_many_threads_are_never_lost(engine: Engine) -> None:
    """Read, then write what was read plus one: 8 threads × 10, every increment counted."""
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait(30)
            for _ in range(10):
                with Session(engine) as session, write_transaction(session):
                    query = select(counter.c.value).where(counter.c.id == "c").with_for_update()
                    value = session.execute(query).scalar_one()
                    time.sleep(0.001)  # widen the window a lost update needs
                    session.execute(update(counter).values(value=value + 1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert _value(engine) == 80


def test_a_rolled_back_savepoint_undoes_only_its_own_writes(engine: Engine) -> None:
    with Session(engine) as session:
        with write_transaction(session):
            session.execute(update(counter).values(value=1))
            with pytest.raises(ZeroDivisionError), write_transaction(session):
                session.execute(update(counter).values(value=2))
                _ = 1 / 0
            assert session.execute(select(counter.c.value)).scalar_one() == 1
        assert _value(engine) == 1
        with pytest.raises(KeyError), write_transaction(session):
            with write_transaction(session):  # released into the outer unit...
                session.execute(update(counter).values(value=3))
            raise KeyError("outer")  # ...which rolls it back with itself
    assert _value(engine) == 1


def test_a_write_unit_cannot_start_after_a_read(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(select(counter.c.value))
        assert not in_write_unit(session)
        with pytest.raises(TransactionUsageError, match="before the transaction's first read"):
            begin_write(session)
        session.rollback()
        with write_transaction(session):
            assert in_write_unit(session)
        assert not in_write_unit(session)


def test_on_sqlite_a_write_unit_begins_immediate_and_a_read_does_not(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'begin.db'}")
    tune_sqlite(engine)
    metadata.create_all(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Session(engine) as session:
        session.execute(select(counter.c.value))
        session.rollback()
        with write_transaction(session):
            session.execute(select(counter.c.value))
    engine.dispose()
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN", "BEGIN IMMEDIATE"]
