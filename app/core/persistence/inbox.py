"""Idempotent consumers: an inbox of handled event ids, written in the handler's transaction.

Remote transports deliver at least once, so a handler may see the same event twice. Decorate
it with :func:`idempotent_handler` and a redelivered envelope has no second effect::

    @idempotent_handler
    def on_patient_created(payload: dict[str, Any]) -> None:
        db.session.add(Message(...))     # committed together with the inbox row

How it works: the wrapper opens a fresh app context, so ``db.session`` inside the handler is a
new session with its own transaction (:func:`handler_transaction`). It first inserts
``(handler_id, event_id)`` into the module's inbox table (``<module>_inbox``); a duplicate key
means the event was handled already, and the handler is skipped. Otherwise the handler runs and
the inbox row commits with the handler's writes, or rolls back with them when it raises (so a
retry runs it again). On PostgreSQL two concurrent deliveries of one event serialise on the
key: the second waits, then skips. Events the handler queues with ``publish_after_commit``
are published after that commit.

The event id comes from :func:`app.core.events.current_event` (in-process and in workers).
Called with no current event (directly, in a unit test) the handler runs in its own
transaction without the inbox. While the handler runs,
:func:`~app.core.persistence.idempotency_key` names this (event, handler): the key to pass to
anything outside the database, whose effects are at least once (see
:mod:`app.core.persistence.effects`). Inbox rows are kept until :func:`prune_inbox` removes
them: keep them longer than an event can take to be redelivered (the dead-letter replay window).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, overload

from flask import current_app
from sqlalchemy import Column, String, Table, delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.events import current_event
from app.core.events.subscriptions import Handler
from app.db import Model, db
from app.log import get_logger

from .clock import UtcDateTime, utcnow
from .effects import handling
from .transactions import write_transaction

__all__ = ["handler_transaction", "idempotent_handler", "inbox_table", "prune_inbox"]

_MODULES_PREFIX = "modules."


def inbox_table(module: str) -> Table:
    """The inbox table of ``module`` (``<module>_inbox``), declared once in the app metadata."""
    name = f"{module}_inbox"
    existing = Model.metadata.tables.get(name)
    if existing is not None:
        return existing
    return Table(
        name,
        Model.metadata,
        Column("handler_id", String(200), primary_key=True),
        Column("event_id", String(128), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("handled_at", UtcDateTime(), nullable=False),
    )


@contextmanager
def handler_transaction() -> Iterator[Session]:
    """Run a block in a new app context whose ``db.session`` is a fresh session, as one write
    unit (:func:`~app.core.persistence.write_transaction`: on SQLite it holds the write lock
    from its first statement, so the handler's reads and writes serialise with other writers).

    Commits when the block returns and rolls back when it raises. Events queued with
    ``publish_after_commit`` are published by that commit; their errors (handler errors in
    raise mode, transport errors) propagate from here after the data is committed.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context(), write_transaction(db.session) as session:
        yield session


@overload
def idempotent_handler(func: Handler, /) -> Handler: ...


@overload
def idempotent_handler(
    *, handler_id: str | None = None, module: str | None = None
) -> Callable[[Handler], Handler]: ...


def idempotent_handler(
    func: Handler | None = None, /, *, handler_id: str | None = None, module: str | None = None
) -> Handler | Callable[[Handler], Handler]:
    """Make ``func`` run in its own transaction, at most once per event id.

    ``module`` defaults to the package under ``modules.`` that defines ``func``; ``handler_id``
    to ``<module>.<function name>`` (a leading underscore dropped): the id the module loader
    gives the handler. Use it bare (``@idempotent_handler``) or with arguments.
    """

    def decorate(handler: Handler) -> Handler:
        owner = module or _module_of(handler)
        key = handler_id or f"{owner}.{handler.__name__.lstrip('_')}"
        return _wrap(handler, key, inbox_table(owner))

    return decorate(func) if func is not None else decorate


def _wrap(handler: Handler, key: str, table: Table) -> Handler:
    log: Any = get_logger("eventbus.inbox")

    @functools.wraps(handler)
    def run_once(payload: dict[str, Any]) -> None:
        envelope = current_event()
        if envelope is None:
            with handler_transaction():
                handler(payload)
            return
        with handler_transaction() as session, handling(envelope.id, key):
            if not _claim(session, table, key, envelope.id, envelope.type):
                log.info("handler.duplicate_skipped", handler_id=key, event_id=envelope.id)
                return
            handler(payload)

    run_once.inbox_handler_id = key  # type: ignore[attr-defined]
    return run_once


def _claim(session: Session, table: Table, key: str, event_id: str, event_type: str) -> bool:
    """Insert the inbox row; ``False`` (and a rolled-back transaction) if it exists already."""
    row = {
        "handler_id": key,
        "event_id": event_id,
        "event_type": event_type,
        "handled_at": utcnow(),
    }
    try:
        session.execute(insert(table).values(row))
    except IntegrityError:
        session.rollback()
        return False
    return True


def prune_inbox(module: str, before: datetime, session: Session | None = None) -> int:
    """Delete ``module``'s inbox rows handled before ``before``; return how many (no commit)."""
    table = inbox_table(module)
    target = session or db.session()
    result: Any = target.execute(delete(table).where(table.c.handled_at < before))
    return int(result.rowcount or 0)


def _module_of(handler: Handler) -> str:
    name = str(getattr(handler, "__module__", ""))
    if not name.startswith(_MODULES_PREFIX):
        raise TypeError(
            f"{handler!r} is not defined under the modules package: "
            "pass idempotent_handler(module=...) to name its module"
        )
    return name.removeprefix(_MODULES_PREFIX).split(".")[0]
