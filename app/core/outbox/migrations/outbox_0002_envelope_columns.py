"""outbox: the envelope in columns, the relay's cursor, sent records and rows set aside

Revision ID: outbox_0002
Revises: outbox_0001

Converts the first release's table: its unsent rows are moved, in order, into the new
``eventbus_outbox`` (the envelope's fields in columns, the payload as the JSON text that went
on the wire); a row whose ``envelope`` cannot be read is kept in
``eventbus_outbox_set_aside`` with the reason; rows already sent are dropped. A database
whose ``eventbus_outbox`` already has the new layout (made by ``create_all``) is left as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "outbox_0002"
down_revision: str | Sequence[str] | None = "outbox_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD = "eventbus_outbox_first_layout"


def _envelope_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.String(40), nullable=False),
        sa.Column("producer", sa.String(200), nullable=False),
        sa.Column("correlation_id", sa.String(128), nullable=False),
        sa.Column("causation_id", sa.String(128)),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    first_layout = "eventbus_outbox" in existing and "envelope" in {
        column["name"] for column in inspector.get_columns("eventbus_outbox")
    }
    if first_layout:
        op.drop_index("ix_eventbus_outbox_pending", table_name="eventbus_outbox")
        op.rename_table("eventbus_outbox", OLD)
    if first_layout or "eventbus_outbox" not in existing:
        op.create_table(
            "eventbus_outbox",
            sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
            *_envelope_columns(),
            sqlite_autoincrement=True,
        )
    if "eventbus_outbox_cursor" not in existing:
        op.create_table(
            "eventbus_outbox_cursor",
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("last_seq", SEQ, nullable=False),
            sa.Column("holder", sa.String(64)),
            sa.Column("lease_until", sa.DateTime(timezone=True)),
        )
    if "eventbus_outbox_sent" not in existing:
        op.create_table(
            "eventbus_outbox_sent",
            sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
            sa.Column("event_id", sa.String(128), nullable=False),
            sa.Column("event_type", sa.String(200), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        )
    if "eventbus_outbox_set_aside" not in existing:
        op.create_table(
            "eventbus_outbox_set_aside",
            sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
            *_envelope_columns(),
            sa.Column("reason", sa.String(500), nullable=False),
            sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=False),
        )
    if first_layout:
        _move_unsent_rows()
        op.drop_table(OLD)


def _move_unsent_rows() -> None:
    """Every unsent row of the first layout, in ``seq`` order, into the new tables."""
    bind = op.get_bind()
    meta = sa.MetaData()
    old = sa.Table(OLD, meta, autoload_with=bind)
    new = sa.Table("eventbus_outbox", meta, autoload_with=bind)
    set_aside = sa.Table("eventbus_outbox_set_aside", meta, autoload_with=bind)
    rows = bind.execute(
        sa.select(old.c.seq, old.c.event_id, old.c.event_type, old.c.envelope, old.c.created_at)
        .where(old.c.sent_at.is_(None))
        .order_by(old.c.seq)
    )
    for row in rows.all():
        columns, problem = _columns_of(row.envelope, row.event_id, row.event_type)
        values = {**columns, "created_at": row.created_at}
        if problem is None:
            bind.execute(sa.insert(new).values(**values))
            continue
        now = datetime.now(UTC)
        bind.execute(
            sa.insert(set_aside).values(
                seq=row.seq,
                **values,
                reason=f"unreadable in the first outbox layout: {problem}",
                set_aside_at=now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now,
            )
        )


def _columns_of(envelope: str, event_id: str, event_type: str) -> tuple[dict[str, Any], str | None]:
    """The new columns of a first-layout row, and what was wrong with it (``None``: nothing)."""
    fallback = {
        "event_id": event_id,
        "event_type": event_type,
        "version": 1,
        "occurred_at": "",
        "producer": "",
        "correlation_id": "",
        "causation_id": None,
        "payload": envelope,
    }
    try:
        fields = json.loads(envelope)
        payload = fields["payload"]
        if not isinstance(payload, str) or not isinstance(json.loads(payload), dict):
            return fallback, "its payload is not a JSON object"
        return {
            "event_id": str(fields.get("id") or event_id),
            "event_type": str(fields.get("type") or event_type),
            "version": int(fields.get("version") or 1),
            "occurred_at": str(fields["occurred_at"]),
            "producer": str(fields.get("producer") or ""),
            "correlation_id": str(fields.get("correlation_id") or ""),
            "causation_id": fields.get("causation_id") or None,
            "payload": payload,
        }, None
    except (ValueError, KeyError, TypeError) as exc:
        return fallback, f"{type(exc).__name__} reading its envelope"


def downgrade() -> None:
    """Back to the first layout: the rows not sent yet return to an ``envelope`` column."""
    bind = op.get_bind()
    meta = sa.MetaData()
    new = sa.Table("eventbus_outbox", meta, autoload_with=bind)
    cursor = sa.Table("eventbus_outbox_cursor", meta, autoload_with=bind)
    watermark = bind.execute(sa.select(sa.func.max(cursor.c.last_seq))).scalar() or 0
    unsent = bind.execute(sa.select(new).where(new.c.seq > watermark).order_by(new.c.seq)).all()
    for table in ("eventbus_outbox_set_aside", "eventbus_outbox_sent", "eventbus_outbox_cursor"):
        op.drop_table(table)
    op.drop_table("eventbus_outbox")
    old = op.create_table(  # as outbox_0001 makes it
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
    assert old is not None
    for row in unsent:
        fields = {
            "id": row.event_id,
            "type": row.event_type,
            "version": str(row.version),
            "occurred_at": row.occurred_at,
            "producer": row.producer,
            "correlation_id": row.correlation_id,
            "causation_id": row.causation_id or "",
            "payload": row.payload,
        }
        bind.execute(
            sa.insert(old).values(
                event_id=row.event_id,
                event_type=row.event_type,
                envelope=json.dumps(fields),
                created_at=row.created_at,
                available_at=row.created_at,
                attempts=0,
            )
        )
