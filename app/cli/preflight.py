"""What every serving command checks before it starts: the schema at head.

``create_app()`` skips the check when a ``flask`` command builds the app (``flask db upgrade``
must run on a database behind head), so ``events worker``, ``events rq-worker`` and
``events relay`` make it here, and refuse to start with one line naming the command to run.
"""

from __future__ import annotations

import click
from flask import Flask

from app.core.events.exceptions import SchemaNotAtHeadError
from app.migrations import require_schema_at_head

__all__ = ["refuse_unless_schema_at_head"]


def refuse_unless_schema_at_head(app: Flask) -> None:
    """Raise :class:`click.ClickException` (one line) when the database is behind head."""
    try:
        require_schema_at_head(app)
    except SchemaNotAtHeadError as exc:
        raise click.ClickException(str(exc)) from exc
