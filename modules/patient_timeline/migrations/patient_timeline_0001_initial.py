"""patient_timeline: the tables as of the first migration

Revision ID: patient_timeline_0001
Revises: (the first revision of the branch)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "patient_timeline_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("patient_timeline",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made before migrations existed (by `create_all`) has these tables already:
    # they are kept as they are.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "patient_timeline_entry" not in existing:
        op.create_table(
            "patient_timeline_entry",
            sa.Column(
                "seq",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                autoincrement=True,
                nullable=False,
            ),
            sa.Column("patient_id", sa.String(length=32), nullable=False),
            sa.Column("event_id", sa.String(length=128), nullable=False),
            sa.Column("event_type", sa.String(length=100), nullable=False),
            sa.Column("occurred_at", sa.String(length=40), nullable=False),
            sa.Column("producer", sa.String(length=100), nullable=False),
            sa.Column("correlation_id", sa.String(length=128), nullable=False),
            sa.Column("causation_id", sa.String(length=128), nullable=True),
            sa.Column("summary", sa.String(length=300), nullable=False),
            sa.Column("data", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
        )
        with op.batch_alter_table("patient_timeline_entry", schema=None) as batch_op:
            batch_op.create_index(
                "ix_patient_timeline_patient_time", ["patient_id", "occurred_at"], unique=False
            )
    if "patient_timeline_inbox" not in existing:
        op.create_table(
            "patient_timeline_inbox",
            sa.Column("handler_id", sa.String(length=200), nullable=False),
            sa.Column("event_id", sa.String(length=128), nullable=False),
            sa.Column("event_type", sa.String(length=100), nullable=False),
            sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("handler_id", "event_id"),
        )


def downgrade() -> None:
    op.drop_table("patient_timeline_inbox")
    with op.batch_alter_table("patient_timeline_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_timeline_patient_time")
    op.drop_table("patient_timeline_entry")
