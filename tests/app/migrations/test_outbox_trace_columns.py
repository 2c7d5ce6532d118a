"""``outbox_0003``: the trace context columns are added to a database at ``outbox_0002`` with
its unsent rows kept (they read back with no trace context), and dropped again on the way
down; a database whose tables already have them (``create_all``) is left as it is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app import migrations
from app.core.events.envelope import Envelope
from app.core.outbox import OutboxStore, open_store
from app.db import db

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRACED = ("eventbus_outbox", "eventbus_outbox_set_aside")


def trace_columns(app: Flask) -> dict[str, set[str]]:
    with app.app_context():
        inspector = sa.inspect(db.engine)
        return {
            table: {c["name"] for c in inspector.get_columns(table)} & {"traceparent", "tracestate"}
            for table in TRACED
        }


def insert_untraced_row(app: Flask, event_id: str) -> None:
    """A row as ``outbox_0002``'s layout holds it (no trace columns)."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO eventbus_outbox (event_id, event_type, version, occurred_at, "
                "producer, correlation_id, payload, created_at) VALUES (:id, "
                "'patient.created', 1, '2026-12-01T00:00:00Z', 'patients', 'req-9', "
                "'{\"n\": 9}', :now)"
            ),
            {"id": event_id, "now": datetime.now(UTC)},
        )


def claimed_traces(app: Flask) -> list[tuple[str, str | None]]:
    """``(event id, traceparent)`` of every unsent row, as the relay reads them."""
    with app.app_context():
        store = open_store(db.engine, timedelta(seconds=30), keep_sent=False)
        try:
            claim = store.claim(10)
            assert claim is not None
            store.release(claim)
            return [(e.id, e.traceparent) for e in claim.envelopes]
        finally:
            store.close()


def test_the_trace_columns_come_with_outbox_0003_and_go_with_its_downgrade(
    empty_database: str, app_on: Callable[..., Flask]
) -> None:
    app = app_on(empty_database)
    migrations.upgrade(app, "outbox@outbox_0002")
    assert trace_columns(app) == {table: set() for table in TRACED}
    insert_untraced_row(app, "evt-old")

    migrations.upgrade(app)
    assert migrations.schema_status(app).at_head
    assert trace_columns(app) == {table: {"traceparent", "tracestate"} for table in TRACED}
    assert claimed_traces(app) == [("evt-old", None)]
    traced = Envelope(
        id="evt-new",
        type="patient.created",
        payload={"n": 10},
        correlation_id="req-10",
        traceparent=TRACEPARENT,
    )
    with app.app_context(), Session(db.engine) as session:
        OutboxStore.add(session, traced)
        session.commit()
    assert claimed_traces(app) == [("evt-old", None), ("evt-new", TRACEPARENT)]

    migrations.downgrade(app, "outbox@outbox_0002")
    assert trace_columns(app) == {table: set() for table in TRACED}
    with app.app_context(), db.engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT event_id FROM eventbus_outbox ORDER BY seq"))
        assert kept.scalars().all() == ["evt-old", "evt-new"]
    migrations.upgrade(app)
    assert claimed_traces(app) == [("evt-old", None), ("evt-new", None)]


def test_tables_made_by_create_all_with_the_columns_are_left_as_they_are(
    empty_database: str, app_on: Callable[..., Flask]
) -> None:
    app = app_on(empty_database)
    with app.app_context(), db.engine.begin() as connection:
        db.metadata.create_all(connection)
    migrations.upgrade(app)
    assert migrations.schema_status(app).at_head
    with app.app_context(), db.engine.connect() as connection:
        assert migrations.model_differences(app, connection) == []
