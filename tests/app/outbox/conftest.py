"""Outbox fixtures: engines with empty outbox tables, on SQLite and on PostgreSQL, and stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete

from app.core.outbox import (
    OutboxStore,
    open_store,
    outbox,
    outbox_cursor,
    outbox_sent,
    outbox_set_aside,
)
from app.db import tune_sqlite
from tests.support.postgres import postgres_database

LEASE = timedelta(seconds=60)
TABLES = (outbox, outbox_cursor, outbox_sent, outbox_set_aside)


@pytest.fixture(scope="session")
def outbox_postgres_url() -> Iterator[str]:
    """A private PostgreSQL database for the outbox tests (dropped at the end)."""
    with postgres_database() as url:
        yield url


def empty_outbox(url: str) -> Engine:
    """An engine on ``url`` whose outbox tables exist and are empty."""
    engine = create_engine(url)
    tune_sqlite(engine)  # as the app does: WAL mode before any relay connects
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # rows a test left locked: fail, do not hang
            connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
        for table in TABLES:
            table.create(connection, checkfirst=True)
            connection.execute(delete(table))
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine whose database has empty outbox tables."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'outbox.db'}"
    else:
        url = request.getfixturevalue("outbox_postgres_url")
    engine = empty_outbox(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = empty_outbox(f"sqlite:///{tmp_path / 'outbox.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def stores(engine: Engine) -> Iterator[list[OutboxStore]]:
    """Stores opened by :func:`store` (closed at the end)."""
    opened: list[OutboxStore] = []
    yield opened
    for store in opened:
        store.close()


@pytest.fixture
def store(engine: Engine, stores: list[OutboxStore]) -> OutboxStore:
    """One relay's store (retention on: sent rows are kept)."""
    opened = open_store(engine, LEASE, keep_sent=True)
    stores.append(opened)
    return opened
