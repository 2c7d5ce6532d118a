"""outbox: the table of the first outbox release (one JSON ``envelope`` column per row)

Revision ID: outbox_0001
Revises: (the first revision of the branch)

Kept as it was released so that a database made by that release (with ``create_all``, before
migrations existed) and a new one follow the same path to head: ``outbox_0002`` converts it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outbox_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("outbox",)
depends_on: str | Sequence[str] | None = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("eventbus_outbox"):
        return  # made by `create_all` (this layout or the next one): outbox_0002 looks at it
    op.create_table(
        "eventbus_outbox",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(128), nullable=False, unique=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500)),
        sa.Column("claim_token", sa.String(64)),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_eventbus_outbox_pending", "eventbus_outbox", ["sent_at", "available_at", "seq"]
    )


def downgrade() -> None:
    op.drop_table("eventbus_outbox")
