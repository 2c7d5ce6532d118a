"""appointments: the tables as of the first migration

Revision ID: appointments_0001
Revises: (the first revision of the branch)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "appointments_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("appointments",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made before migrations existed (by `create_all`) has these tables already:
    # they are kept as they are.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "appointments_appointment" not in existing:
        op.create_table(
            "appointments_appointment",
            sa.Column("id", sa.String(length=32), nullable=False),
            sa.Column("patient_id", sa.String(length=32), nullable=False),
            sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("duration_minutes", sa.Integer(), nullable=False),
            sa.Column("reason", sa.String(length=500), nullable=True),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("cancel_reason", sa.String(length=500), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("appointments_appointment", schema=None) as batch_op:
            batch_op.create_index(
                "ix_appointments_patient_starts", ["patient_id", "starts_at"], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("appointments_appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_appointments_patient_starts")
    op.drop_table("appointments_appointment")
