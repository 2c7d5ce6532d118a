"""The outbox table: events written in the same transaction as the facts they announce.

One row per event that has remote subscribers; ``envelope`` holds its flat wire fields
(``Envelope.to_fields()``) as JSON, so the relay sends the payload exactly as encoded.
``seq`` orders the rows; ``event_id`` is the envelope's id (unique). A row is *pending* until
``sent_at`` is set; a relay takes a lease on a batch of pending rows (``claim_token``,
``claimed_until``) while it sends them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from app.core.persistence.clock import UtcDateTime
from app.db import Model

__all__ = ["outbox"]

outbox = Table(
    "eventbus_outbox",
    Model.metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", String(128), nullable=False, unique=True),
    Column("event_type", String(200), nullable=False),
    Column("envelope", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("available_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(500)),
    Column("claim_token", String(64)),
    Column("claimed_until", UtcDateTime()),
    Column("sent_at", UtcDateTime()),
)
Index("ix_eventbus_outbox_pending", outbox.c.sent_at, outbox.c.available_at, outbox.c.seq)
