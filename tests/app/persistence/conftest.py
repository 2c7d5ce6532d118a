"""An app with no modules, on SQLite and on PostgreSQL, with a probe table to write to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Column, MetaData, String, Table

from app.db import db
from tests.support.postgres import delete_all_rows, postgres_database
from tests.support.schema import make_app

PROBE = Table(
    "persistence_probe",
    MetaData(),
    Column("id", String(32), primary_key=True),
    Column("note", String(100)),
)
"""A table outside the app's metadata: the helpers under test work on any table."""

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """This session's private PostgreSQL database (dropped at the end)."""
    with postgres_database() as url:
        yield url


@pytest.fixture(params=DATABASES)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An app (no modules) inside an app context; the probe table exists and is empty."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'probe.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    flask_app = make_app({"SQLALCHEMY_DATABASE_URI": url, "ENABLED_MODULES": [], "TESTING": True})
    with flask_app.app_context():
        PROBE.create(db.engine, checkfirst=True)
        try:
            yield flask_app
        finally:
            db.session.remove()
            delete_all_rows(db.engine, PROBE.metadata)
            delete_all_rows(db.engine, db.metadata)
            db.engine.dispose()
