"""The app ``bench.streams`` runs ``flask events worker`` on: the real app, one no-op handler.

``flask --app bench.streams_app:create_app events worker --burst`` builds the app exactly as
``wsgi`` does (settings from ``FLASK_*``: the Redis URL, the key prefix, no modules) and
subscribes one handler, ``bench.noop``, to ``patient.created``; with
``FLASK_EVENTBUS_TRANSPORT=redis-streams`` it is routed to Redis Streams, so the worker
command consumes it the way it consumes any module's handler.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from app import create_app as create_real_app
from app.core.events import EventType

__all__ = ["HANDLER", "create_app", "noop"]

HANDLER = "bench.noop"


def noop(payload: dict[str, Any]) -> None:
    """The no-op handler."""


def create_app() -> Flask:
    """The real app with ``bench.noop`` subscribed to ``patient.created``."""
    app = create_real_app()
    app.extensions["eventbus"].bus.subscribe(EventType.PATIENT_CREATED, noop, handler_id=HANDLER)
    return app
