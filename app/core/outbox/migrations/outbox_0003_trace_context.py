"""outbox: the W3C trace context of the span that queued each event

Revision ID: outbox_0003
Revises: outbox_0002

Adds the nullable ``traceparent`` and ``tracestate`` columns to ``eventbus_outbox`` and
``eventbus_outbox_set_aside``, so an event relayed from the outbox continues the trace of the
request that published it. Existing rows keep ``NULL`` (no trace context: their consumer
spans start a trace of their own, as before). A table that already has the columns (made by
``create_all`` from the current models) is left as it is. ``ALTER TABLE … ADD COLUMN`` of a
nullable column and ``DROP COLUMN`` (SQLite 3.35+) change neither the rows nor ``seq``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outbox_0003"
down_revision: str | Sequence[str] | None = "outbox_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("eventbus_outbox", "eventbus_outbox_set_aside")


def _trace_columns() -> list[sa.Column[str]]:
    return [
        sa.Column("traceparent", sa.String(55)),
        sa.Column("tracestate", sa.String(512)),
    ]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table in TABLES:
        present = {column["name"] for column in inspector.get_columns(table)}
        for column in _trace_columns():
            if column.name not in present:
                op.add_column(table, column)


def downgrade() -> None:
    """Drop the columns: rows not sent yet go out without their trace context."""
    for table in TABLES:
        for name in ("tracestate", "traceparent"):
            op.drop_column(table, name)
