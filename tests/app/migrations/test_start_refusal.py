"""No process creates tables at start; one on a database behind head refuses, in one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, inspect

from app import create_app, migrations
from app.core.events.exceptions import SchemaNotAtHeadError
from tests.app.migrations.processes import flask

REFUSAL = "the database schema is behind head"
COMMAND = "run `flask --app wsgi db upgrade`"


def table_names(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_create_app_on_an_empty_database_creates_nothing_and_refuses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    with pytest.raises(SchemaNotAtHeadError) as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    message = str(refused.value)
    assert message.startswith(REFUSAL) and message.endswith(COMMAND)
    assert "\n" not in message
    assert table_names(url) == []


def test_create_app_on_a_database_one_branch_behind_names_that_branch(
    tmp_path: Path, app_on: Callable[..., Flask]
) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    app = app_on(url)
    migrations.upgrade(app)
    migrations.downgrade(app, "notifications@base")
    with pytest.raises(SchemaNotAtHeadError, match=r"\(notifications at nothing\)"):
        create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})


@pytest.mark.slow
def test_serving_commands_refuse_in_one_line_and_flask_db_upgrade_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for command in (
        ("events", "relay", "--burst"),
        ("events", "worker", "--burst"),
        ("events", "rq-worker", "--burst"),
    ):
        result = flask(url, *command, EVENTBUS_TRANSPORT="redis-streams")
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip().splitlines() == [
            f"Error: {REFUSAL} " + result.stderr.split(REFUSAL, 1)[1].strip()
        ], result.stderr
        assert COMMAND in result.stderr
    assert table_names(url) == []

    upgraded = flask(url, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip().splitlines()[-1].startswith("the database is at head")
    assert "eventbus_outbox" in table_names(url)
    again = flask(url, "db", "current")
    assert again.returncode == 0 and again.stdout.startswith("the database is at head")
