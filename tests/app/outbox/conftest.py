"""Outbox fixtures: an engine with the outbox table, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete

from app.core.outbox import OutboxStore, outbox
from tests.support.postgres import postgres_database


@pytest.fixture(scope="session")
def outbox_postgres_url() -> Iterator[str]:
    """A private PostgreSQL database for the outbox tests (dropped at the end)."""
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine whose database has an empty outbox table."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'outbox.db'}"
    else:
        url = request.getfixturevalue("outbox_postgres_url")
    engine = create_engine(url)
    outbox.create(engine, checkfirst=True)
    with engine.begin() as connection:
        connection.execute(delete(outbox))
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> OutboxStore:
    return OutboxStore(engine)
