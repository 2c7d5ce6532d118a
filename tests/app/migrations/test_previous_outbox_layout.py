"""A database made by the first outbox release (``create_all``, no migrations) upgrades in
place: its unsent events survive, in order, and go out through the relay as before."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from app import migrations
from app.core.events.envelope import Envelope
from app.core.outbox import open_store
from app.db import db

FIRST_LAYOUT = sa.MetaData()
first_outbox = sa.Table(  # as the first outbox release declared it (git show a761a3b^)
    "eventbus_outbox",
    FIRST_LAYOUT,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("event_id", sa.String(128), nullable=False, unique=True),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("envelope", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.String(500)),
    sa.Column("claim_token", sa.String(64)),
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
)
sa.Index(
    "ix_eventbus_outbox_pending",
    first_outbox.c.sent_at,
    first_outbox.c.available_at,
    first_outbox.c.seq,
)


def envelope(n: int) -> Envelope:
    return Envelope(
        id=f"evt-{n:03d}",
        type="patient.created",
        payload={"patient_id": f"p{n}", "n": n},
        correlation_id=f"req-{n}",
        producer="patients",
    )


def write_first_release_database(app: Flask) -> list[Envelope]:
    """The tables that release's ``create_all`` made, with 3 unsent rows, 1 sent, 1 broken."""
    now = datetime.now(UTC)
    unsent = [envelope(n) for n in (1, 2, 3)]
    with app.app_context(), db.engine.begin() as connection:
        module_tables = [
            t for name, t in db.metadata.tables.items() if not name.startswith("eventbus_")
        ]
        db.metadata.create_all(connection, tables=module_tables)
        FIRST_LAYOUT.create_all(connection)
        rows = [
            (envelope(0), now),  # sent already
            (unsent[0], None),
            (unsent[1], None),
        ]
        for item, sent_at in rows:
            connection.execute(
                first_outbox.insert().values(
                    event_id=item.id,
                    event_type=item.type,
                    envelope=json.dumps(item.to_fields()),
                    created_at=now,
                    available_at=now,
                    attempts=0,
                    sent_at=sent_at,
                )
            )
        connection.execute(
            first_outbox.insert().values(
                event_id="evt-broken",
                event_type="patient.created",
                envelope="{not json",
                created_at=now,
                available_at=now,
                attempts=3,
            )
        )
        connection.execute(
            first_outbox.insert().values(
                event_id=unsent[2].id,
                event_type=unsent[2].type,
                envelope=json.dumps(unsent[2].to_fields()),
                created_at=now,
                available_at=now,
                attempts=0,
            )
        )
    return unsent


def test_a_first_release_outbox_upgrades_keeping_its_unsent_events_in_order(
    empty_database: str, app_on: Callable[..., Flask]
) -> None:
    app = app_on(empty_database)
    unsent = write_first_release_database(app)
    status = migrations.schema_status(app)
    assert not status.at_head and status.behind["outbox"] is None

    migrations.upgrade(app)

    assert migrations.schema_status(app).at_head
    with app.app_context():
        engine = db.engine
        columns = {c["name"] for c in sa.inspect(engine).get_columns("eventbus_outbox")}
        assert "envelope" not in columns and {"payload", "correlation_id"} <= columns
        with engine.connect() as connection:
            aside = connection.execute(
                sa.text("SELECT event_id, reason FROM eventbus_outbox_set_aside")
            ).all()
        assert [
            (row.event_id, "unreadable in the first outbox layout" in row.reason) for row in aside
        ] == [("evt-broken", True)]
        store = open_store(engine, timedelta(seconds=30), keep_sent=True)
        try:
            claim = store.claim(10)
            assert claim is not None
            assert [e.id for e in claim.envelopes] == [e.id for e in unsent]
            assert [e.payload for e in claim.envelopes] == [e.payload for e in unsent]
            assert [e.correlation_id for e in claim.envelopes] == ["req-1", "req-2", "req-3"]
            assert store.mark_sent(claim)
            assert store.stats().backlog == 0
        finally:
            store.close()


def test_the_outbox_branch_goes_down_to_the_first_layout_and_back(
    empty_database: str, app_on: Callable[..., Flask]
) -> None:
    app = app_on(empty_database)
    migrations.upgrade(app)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO eventbus_outbox (event_id, event_type, version, occurred_at, "
                "producer, correlation_id, payload, created_at) VALUES ('evt-9', "
                "'patient.created', 1, '2026-12-01T00:00:00Z', 'patients', 'req-9', "
                "'{\"n\": 9}', :now)"
            ),
            {"now": datetime.now(UTC)},
        )
    migrations.downgrade(app, "outbox@outbox_0001")
    with app.app_context(), db.engine.connect() as connection:
        (stored,) = connection.execute(sa.text("SELECT envelope FROM eventbus_outbox")).scalars()
    assert json.loads(stored)["id"] == "evt-9"
    migrations.upgrade(app)
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT event_id, payload FROM eventbus_outbox")).all()
    assert [(row.event_id, json.loads(row.payload)) for row in rows] == [("evt-9", {"n": 9})]
