"""Is the database at head? The check every serving process makes at start, and health.

A database is *at head* when every branch the app mounts has its head revision applied. A
revision the database holds that no mounted branch knows (a module removed from
``ENABLED_MODULES`` without downgrading its branch, or a newer release's) does not block: it
is reported, and the tables it made are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from flask import Flask

from app.core.events.exceptions import SchemaNotAtHeadError
from app.db import db

from .scripts import script_directory

__all__ = ["UPGRADE_COMMAND", "SchemaStatus", "require_schema_at_head", "schema_status"]

UPGRADE_COMMAND = "flask --app wsgi db upgrade"
"""The command that brings a database to head (named in every refusal)."""


@dataclass(frozen=True)
class SchemaStatus:
    """The branches whose head is not applied (``behind``, with the revision the database is
    at, or ``None`` when none of the branch is applied) and revisions the code does not know."""

    behind: dict[str, str | None]
    unknown: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        """Every mounted branch at its head."""
        return not self.behind

    def reason(self) -> str:
        """One line for logs, health and refusals."""
        if self.at_head:
            return "at head"
        parts = [f"{name} at {rev or 'nothing'}" for name, rev in sorted(self.behind.items())]
        return f"the database schema is behind head ({', '.join(parts)}): run `{UPGRADE_COMMAND}`"


def schema_status(app: Flask) -> SchemaStatus:
    """Read the applied revisions of ``app``'s database and compare them with the heads."""
    scripts = script_directory(app)
    with app.app_context(), db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return compare(scripts, current)


def compare(scripts: ScriptDirectory, current: set[str]) -> SchemaStatus:
    """The status of a database holding ``current`` against the heads of ``scripts``."""
    unknown = []
    applied: set[str] = set()
    for revision in sorted(current):
        try:
            applied.update(rev.revision for rev in scripts.iterate_revisions(revision, "base"))
        except (CommandError, RevisionError):
            unknown.append(revision)
    behind: dict[str, str | None] = {}
    for head in scripts.get_heads():
        if head in applied:
            continue
        script = scripts.get_revision(head)
        assert script is not None
        branch = sorted(script.branch_labels) or [head]
        lineage = {rev.revision for rev in scripts.iterate_revisions(head, "base")}
        reached = [rev for rev in current if rev in lineage]
        behind[branch[0]] = reached[0] if reached else None
    return SchemaStatus(behind, tuple(unknown))


def require_schema_at_head(app: Flask) -> None:
    """Raise :class:`SchemaNotAtHeadError` (one line naming the command) unless at head.

    Nothing is checked when ``DATABASE_SCHEMA_CHECK`` is off, or for an in-memory SQLite
    database (it starts empty in every process: whoever opens it makes its tables).
    """
    if not app.config["DATABASE_SCHEMA_CHECK"]:
        return
    if app.config["SQLALCHEMY_DATABASE_URI"] in ("sqlite://", "sqlite:///:memory:"):
        return
    status = schema_status(app)
    if not status.at_head:
        raise SchemaNotAtHeadError(status.reason())
