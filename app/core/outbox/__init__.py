"""The transactional outbox (``EVENTBUS_OUTBOX``): a committed fact always becomes an event.

With the outbox on (``EVENTBUS_OUTBOX``: ``auto``, the default, turns it on whenever some
handler is routed to a remote transport; see :mod:`app.core.outbox.mode`),
``publish_after_commit`` writes the envelope of every event that has remote subscribers to
the ``eventbus_outbox`` table in the service's own transaction; after
the commit, the in-process handlers run as before (same envelope, same id) and a relay sends
the row to Redis and marks it sent. A rolled-back transaction leaves no row; Redis being down
only delays delivery. ``init_outbox`` wires it into the app; the relay runs as a thread of the
web process (started on its first request, stopped at exit) unless
``EVENTBUS_OUTBOX_RELAY="none"``, in which case run ``flask events relay``.
"""

from __future__ import annotations

import atexit
from datetime import timedelta

from flask import Flask, current_app, has_app_context

from app.core.events import EventBus
from app.db import db

from .mode import AUTO, outbox_enabled, remote_transports
from .relay import OutboxRelay, RelaySettings
from .store import Claim, OutboxStats, OutboxStore, open_store
from .table import outbox, outbox_cursor, outbox_sent, outbox_set_aside

__all__ = [
    "AUTO",
    "EXTENSION",
    "Claim",
    "OutboxRelay",
    "OutboxStats",
    "OutboxStore",
    "RelaySettings",
    "current_relay",
    "init_outbox",
    "open_store",
    "outbox",
    "outbox_cursor",
    "outbox_enabled",
    "outbox_sent",
    "outbox_set_aside",
    "remote_transports",
]

EXTENSION = "eventbus_outbox"
"""The ``app.extensions`` key of the relay."""


def init_outbox(app: Flask, bus: EventBus) -> OutboxRelay | None:
    """Create the app's relay when the outbox is on (``EVENTBUS_OUTBOX``: ``auto``, the
    default, turns it on when some handler is remote); ``None`` otherwise."""
    if not outbox_enabled(app.config, bus):
        return None
    config = app.config
    settings = RelaySettings(
        batch_size=int(config["EVENTBUS_OUTBOX_BATCH_SIZE"]),
        poll_interval_s=config["EVENTBUS_OUTBOX_POLL_MS"] / 1000,
        lease_s=config["EVENTBUS_OUTBOX_LEASE_MS"] / 1000,
        retention_s=float(config["EVENTBUS_OUTBOX_RETENTION_S"]),
    )
    with app.app_context():
        store = open_store(
            db.engine, timedelta(seconds=settings.lease_s), keep_sent=settings.retention_s > 0
        )
    relay = OutboxRelay(store, bus, settings, autostart=config["EVENTBUS_OUTBOX_RELAY"] == "thread")
    app.extensions[EXTENSION] = relay
    if config["EVENTBUS_OUTBOX_RELAY"] == "thread":
        app.before_request(relay.start)
        atexit.register(relay.stop)
    return relay


def current_relay() -> OutboxRelay | None:
    """The relay of the current app, if the outbox is on."""
    if not has_app_context():
        return None
    relay: OutboxRelay | None = current_app.extensions.get(EXTENSION)
    return relay
