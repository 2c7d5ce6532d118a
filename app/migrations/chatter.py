"""Alembic's INFO lines that say nothing to an operator, filtered out of the logs.

Alembic logs "Context impl SQLiteImpl." and "Will assume non-transactional DDL." each time it
looks at a database (every start checks the schema), and a line per autogenerate plugin;
"Running upgrade A -> B" stays.
"""

from __future__ import annotations

import logging

__all__ = ["quiet_alembic"]

_CHATTER = ("Context impl ", "Will assume ")


def _not_chatter(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(_CHATTER)


def quiet_alembic() -> None:
    """Install the filter (idempotent)."""
    migration = logging.getLogger("alembic.runtime.migration")
    if _not_chatter not in migration.filters:
        migration.addFilter(_not_chatter)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
