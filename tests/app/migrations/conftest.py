"""Fixtures of the migration tests: a fresh, empty database per test, and apps on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app import create_app
from app.db import db
from tests.support.postgres import postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with nothing in it: a new SQLite file, or a new PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def app_on() -> Iterator[Callable[..., Flask]]:
    """Builds apps on a database without checking its schema (the tests migrate it)."""
    built: list[Flask] = []

    def build(url: str, **config: Any) -> Flask:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "DATABASE_SCHEMA_CHECK": False,
                "TESTING": True,
                **config,
            }
        )
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.engine.dispose()
