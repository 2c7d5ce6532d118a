"""How worker threads run handlers inside the app: cheap per delivery, isolated all the same.

Pushing and tearing down an app context for every delivery costs ~6.5 µs here, as much as
the rest of a worker's per-event work. A :class:`WorkerScope` pushes one app context per
*batch* of deliveries (teardown functions run once per batch) and, after each delivery, gives
the next one a fresh ``g`` (when the delivery set anything on it) and closes the database
session if the handler opened one — the state a handler could leak into the next. Handlers
written with ``idempotent_handler`` open their own transaction anyway."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from flask import Flask
from flask.globals import _cv_app

from app.db import db

__all__ = ["WorkerScope"]


class WorkerScope:
    """``batch()`` around a batch of deliveries; ``after_delivery()`` after each one."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        # db.session's registry, read once: Flask-SQLAlchemy's ``SQLAlchemy`` has a
        # ``__getattr__``, so every ``db.session`` read pays for the hook
        self._sessions = db.session.registry

    def batch(self) -> AbstractContextManager[Any]:
        """An app context for a batch (use in a ``with``)."""
        return self.app.app_context()

    def after_delivery(self) -> None:
        """Reset ``g`` and close the delivery's database session, if it opened one."""
        context = _cv_app.get(None)
        if context is not None and vars(context.g):  # an unused g has nothing to leak
            context.g = self.app.app_ctx_globals_class()
        sessions = self._sessions
        if sessions.registry and sessions.has():  # any session at all, then this context's
            db.session.remove()
