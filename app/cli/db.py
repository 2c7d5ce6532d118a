"""``flask db ...``: bring the database schema to head, look at it, change it.

``flask --app wsgi db upgrade`` is the deployment's first step (docs/deployment.md): it runs
before the web processes and workers, which refuse to start on a database behind head.
Problems are reported as one line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from alembic.util import CommandError
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from app import migrations

__all__ = ["db_cli"]

db_cli = AppGroup("db", help="Database schema migrations (Alembic, one branch per module).")


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except (CommandError, SQLAlchemyError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(first) from exc


def _status_line() -> str:
    status = migrations.schema_status(current_app)
    branches = ", ".join(branch.name for branch in migrations.app_branches(current_app))
    line = f"the database is at head ({branches})" if status.at_head else status.reason()
    if status.unknown:
        line += f"; revisions no mounted branch knows: {', '.join(status.unknown)}"
    return line


def _run(action: Callable[[], Any]) -> None:
    with _one_line_errors():
        action()
        click.echo(_status_line())


@db_cli.command("upgrade")
@click.argument("target", default="heads")
def upgrade_command(target: str) -> None:
    """Apply migrations up to TARGET (default: every mounted branch's head)."""
    _run(lambda: migrations.upgrade(current_app, target))


@db_cli.command("downgrade")
@click.argument("target")
def downgrade_command(target: str) -> None:
    """Revert to TARGET: `billing@base` drops one module's tables, `billing@-1` one step."""
    _run(lambda: migrations.downgrade(current_app, target))


@db_cli.command("current")
def current_command() -> None:
    """Say whether the database is at head, and which branches are behind."""
    with _one_line_errors():
        click.echo(_status_line())


@db_cli.command("check")
def check_command() -> None:
    """Fail when the models and the migrations disagree (on a scratch SQLite database)."""
    with _one_line_errors():
        differences = migrations.model_differences(current_app)
    if differences:
        listed = "; ".join(repr(diff) for diff in differences[:10])
        raise click.ClickException(
            f"the models and the migrations disagree ({len(differences)} difference(s)): "
            f"{listed}. Write a revision: flask --app wsgi db revision BRANCH -m '...' "
            "--autogenerate"
        )
    click.echo("models and migrations agree")


@db_cli.command("revision")
@click.argument("branch")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--autogenerate", is_flag=True, help="Write the operations from the models.")
def revision_command(branch: str, message: str, autogenerate: bool) -> None:
    """Write a new revision on BRANCH (a module's name, or `outbox`)."""
    with _one_line_errors():
        path = migrations.new_revision(current_app, branch, message, autogenerate=autogenerate)
    click.echo(f"wrote {path}")
