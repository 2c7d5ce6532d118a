"""The migrations make exactly the tables the models declare (what ``make test`` enforces).

The suite's fixtures make test schemas from the models (``tests/support/schema.py``); these
tests are what makes that shortcut honest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import Column, Integer

from app import migrations
from app.db import db


def test_a_database_migrated_to_head_matches_the_models(
    empty_database: str, app_on: Callable[..., Flask]
) -> None:
    app = app_on(empty_database)
    migrations.upgrade(app)
    assert migrations.schema_status(app).at_head
    with app.app_context(), db.engine.connect() as connection:
        assert migrations.model_differences(app, connection) == []


def test_flask_db_check_passes_on_this_code(app_on: Callable[..., Flask]) -> None:
    result = app_on("sqlite://").test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    assert "models and migrations agree" in result.output


@pytest.fixture
def a_column_no_migration_adds() -> Iterator[None]:
    table = db.metadata.tables["patients_patient"]
    column = Column("nickname", Integer)
    table.append_column(column)
    try:
        yield
    finally:
        table._columns.remove(column)


@pytest.mark.usefixtures("a_column_no_migration_adds")
def test_flask_db_check_fails_when_a_model_changes_without_a_migration(
    app_on: Callable[..., Flask],
) -> None:
    result = app_on("sqlite://").test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 1
    assert "the models and the migrations disagree (1 difference(s))" in result.output
    assert "add_column" in result.output and "nickname" in result.output
    assert "Traceback" not in result.output
