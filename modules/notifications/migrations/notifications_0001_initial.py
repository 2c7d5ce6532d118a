"""notifications: the tables as of the first migration

Revision ID: notifications_0001
Revises: (the first revision of the branch)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notifications_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("notifications",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made before migrations existed (by `create_all`) has these tables already:
    # they are kept as they are.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "notifications_contact" not in existing:
        op.create_table(
            "notifications_contact",
            sa.Column("patient_id", sa.String(length=32), nullable=False),
            sa.Column("full_name", sa.String(length=200), nullable=True),
            sa.Column("email", sa.String(length=254), nullable=True),
            sa.Column("phone", sa.String(length=32), nullable=True),
            sa.Column("as_of", sa.String(length=40), nullable=False),
            sa.PrimaryKeyConstraint("patient_id"),
        )
    if "notifications_inbox" not in existing:
        op.create_table(
            "notifications_inbox",
            sa.Column("handler_id", sa.String(length=200), nullable=False),
            sa.Column("event_id", sa.String(length=128), nullable=False),
            sa.Column("event_type", sa.String(length=100), nullable=False),
            sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("handler_id", "event_id"),
        )
    if "notifications_message" not in existing:
        op.create_table(
            "notifications_message",
            sa.Column("id", sa.String(length=32), nullable=False),
            sa.Column("patient_id", sa.String(length=32), nullable=False),
            sa.Column("kind", sa.String(length=40), nullable=False),
            sa.Column("context", sa.JSON(), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("channel", sa.String(length=16), nullable=True),
            sa.Column("recipient", sa.String(length=254), nullable=True),
            sa.Column("subject", sa.String(length=200), nullable=True),
            sa.Column("body", sa.String(length=2000), nullable=True),
            sa.Column("error", sa.String(length=200), nullable=True),
            sa.Column("source_event_id", sa.String(length=128), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("notifications_message", schema=None) as batch_op:
            batch_op.create_index(
                "ix_notifications_message_patient", ["patient_id", "created_at"], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("notifications_message", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_message_patient")
    op.drop_table("notifications_message")
    op.drop_table("notifications_inbox")
    op.drop_table("notifications_contact")
