"""billing: the tables as of the first migration

Revision ID: billing_0001
Revises: (the first revision of the branch)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "billing_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("billing",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made before migrations existed (by `create_all`) has these tables already:
    # they are kept as they are.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "billing_invoice" not in existing:
        op.create_table(
            "billing_invoice",
            sa.Column("id", sa.String(length=32), nullable=False),
            sa.Column("patient_id", sa.String(length=32), nullable=False),
            sa.Column("currency", sa.String(length=3), nullable=False),
            sa.Column("total_cents", sa.BigInteger(), nullable=False),
            sa.Column("paid_cents", sa.BigInteger(), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            "ix_billing_invoice_patient_id", "billing_invoice", ["patient_id"], unique=False
        )
    if "billing_invoice_line" not in existing:
        op.create_table(
            "billing_invoice_line",
            sa.Column("id", sa.String(length=32), nullable=False),
            sa.Column("invoice_id", sa.String(length=32), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("description", sa.String(length=200), nullable=False),
            sa.Column("quantity", sa.Integer(), nullable=False),
            sa.Column("unit_price_cents", sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint(
                ["invoice_id"],
                ["billing_invoice.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            "ix_billing_invoice_line_invoice_id",
            "billing_invoice_line",
            ["invoice_id"],
            unique=False,
        )
    if "billing_payment" not in existing:
        op.create_table(
            "billing_payment",
            sa.Column("id", sa.String(length=32), nullable=False),
            sa.Column("invoice_id", sa.String(length=32), nullable=False),
            sa.Column("amount_cents", sa.BigInteger(), nullable=False),
            sa.Column("method", sa.String(length=16), nullable=False),
            sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                ["invoice_id"],
                ["billing_invoice.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            "ix_billing_payment_invoice_id", "billing_payment", ["invoice_id"], unique=False
        )


def downgrade() -> None:
    op.drop_index("ix_billing_payment_invoice_id", table_name="billing_payment")
    op.drop_table("billing_payment")
    op.drop_index("ix_billing_invoice_line_invoice_id", table_name="billing_invoice_line")
    op.drop_table("billing_invoice_line")
    op.drop_index("ix_billing_invoice_patient_id", table_name="billing_invoice")
    op.drop_table("billing_invoice")
