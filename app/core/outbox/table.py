"""The outbox tables: events written in the same transaction as the facts they announce.

``eventbus_outbox`` holds one row per event that has remote subscribers, its envelope in
columns: the payload as the exact JSON text that goes on the wire, and, when tracing is on,
the W3C trace context of the span that queued the event (so the relayed event continues that
trace). ``seq`` orders the rows and never goes back (``AUTOINCREMENT`` on SQLite), so a relay
can read them in order. It has no index besides the primary key: a row costs one insert and,
once sent, at most one delete.

How a row is marked sent depends on the database (see ``app.core.outbox.store``):

- SQLite: ``eventbus_outbox_cursor`` holds the relay's watermark (every row with ``seq`` at or
  below ``last_seq`` is sent) and the lease of the one relay allowed to advance it. Sent rows
  stay in ``eventbus_outbox`` until the retention purge.
- PostgreSQL: sent rows are deleted in the transaction that sent them and, when a retention
  is configured, kept as a short record in ``eventbus_outbox_sent`` until the purge.

A row that cannot be read back (its payload is not a JSON object: edited by hand, a bug) is
moved to ``eventbus_outbox_set_aside`` with the reason, so it neither blocks the rows behind
it nor disappears.

The tables are made and changed by the ``outbox`` migration branch
(``app/core/outbox/migrations``), never at start.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from app.core.persistence.clock import UtcDateTime
from app.db import Model

__all__ = ["outbox", "outbox_cursor", "outbox_sent", "outbox_set_aside"]

_SEQ = BigInteger().with_variant(Integer, "sqlite")


def _envelope_columns() -> list[Column[object]]:
    """The envelope's columns, new objects for each table. ``traceparent`` and ``tracestate``
    (``NULL`` without tracing) are the W3C trace context of the span that queued the event."""
    return [
        Column("event_id", String(128), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("version", Integer, nullable=False),
        Column("occurred_at", String(40), nullable=False),
        Column("producer", String(200), nullable=False),
        Column("correlation_id", String(128), nullable=False),
        Column("causation_id", String(128)),
        Column("payload", Text, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("traceparent", String(55)),
        Column("tracestate", String(512)),
    ]


outbox = Table(
    "eventbus_outbox",
    Model.metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    *_envelope_columns(),
    sqlite_autoincrement=True,
)

outbox_cursor = Table(
    "eventbus_outbox_cursor",
    Model.metadata,
    Column("name", String(64), primary_key=True),
    Column("last_seq", _SEQ, nullable=False),
    Column("holder", String(64)),
    Column("lease_until", UtcDateTime()),
)

outbox_sent = Table(
    "eventbus_outbox_sent",
    Model.metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=False),
    Column("event_id", String(128), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=False),
)

outbox_set_aside = Table(
    "eventbus_outbox_set_aside",
    Model.metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=False),
    *_envelope_columns(),
    Column("reason", String(500), nullable=False),
    Column("set_aside_at", UtcDateTime(), nullable=False),
)
