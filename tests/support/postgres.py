"""A private PostgreSQL database for one test session, and per-test table cleanup.

:func:`postgres_database` creates ``eventbus_test_<hex>`` on the machine's server
(127.0.0.1:5432, trust auth, user ``postgres``; ``TEST_POSTGRES_DSN`` overrides the admin
connection) and drops that database, and only that one, when the session ends. Never
skipped: when the server does not answer, the tests that need it fail and say why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy import Engine, MetaData, text

__all__ = ["ADMIN_DSN", "delete_all_rows", "postgres_database"]

ADMIN_DSN = os.environ.get(
    "TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a uniquely named database; yield its SQLAlchemy URL; drop it afterwards."""
    name = f"eventbus_test_{uuid.uuid4().hex[:16]}"
    try:
        admin = psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise RuntimeError(
            f"PostgreSQL does not answer at {ADMIN_DSN!r} (set TEST_POSTGRES_DSN): {exc}"
        ) from exc
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        info = admin.info
        try:
            yield (f"postgresql+psycopg://{info.user}@{info.host}:{info.port}/{name}")
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def delete_all_rows(engine: Engine, metadata: MetaData) -> None:
    """Empty every table of ``metadata`` that exists (children first); keep the schema."""
    with engine.begin() as connection:
        existing = set(engine.dialect.get_table_names(connection))
        tables = [table for table in metadata.sorted_tables if table.name in existing]
        if not tables:
            return
        if engine.dialect.name == "postgresql":
            names = ", ".join(engine.dialect.identifier_preparer.quote(t.name) for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        for table in reversed(tables):
            connection.execute(table.delete())
