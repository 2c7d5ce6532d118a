"""patients: the tables as of the first migration

Revision ID: patients_0001
Revises: (the first revision of the branch)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "patients_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("patients",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made before migrations existed (by `create_all`) has these tables already:
    # they are kept as they are.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "patients_patient" not in existing:
        op.create_table(
            "patients_patient",
            sa.Column("id", sa.String(length=32), nullable=False),
            sa.Column("clinic_id", sa.String(length=64), nullable=False),
            sa.Column("full_name", sa.String(length=200), nullable=False),
            sa.Column("date_of_birth", sa.Date(), nullable=True),
            sa.Column("email", sa.String(length=254), nullable=True),
            sa.Column("phone", sa.String(length=32), nullable=True),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("patients_patient", schema=None) as batch_op:
            batch_op.create_index(
                "ix_patients_patient_status_created", ["status", "created_at"], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("patients_patient", schema=None) as batch_op:
        batch_op.drop_index("ix_patients_patient_status_created")
    op.drop_table("patients_patient")
