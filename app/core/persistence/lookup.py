"""Loading one row by id for a service, or answering 404."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select

from app.core.http import not_found
from app.db import db

from .transactions import begin_write

__all__ = ["get_or_404"]

RowT = TypeVar("RowT")


def get_or_404(model: type[RowT], row_id: str, what: str, *, for_update: bool = False) -> RowT:
    """The ``model`` row whose ``id`` is ``row_id``, else ``ApiError`` 404 ``<what>_not_found``.

    ``for_update`` locks the row until the transaction ends, the same on every database: the
    transaction is made a write unit first (:func:`~app.core.persistence.begin_write`: begun
    if none is open, ``TransactionUsageError`` if a read transaction is), then the row is read
    with ``SELECT … FOR UPDATE`` (PostgreSQL: a row lock; SQLite: the unit already holds the
    database's write lock). A concurrent locking read waits, then sees the committed row.
    """
    column: Any = model.id  # type: ignore[attr-defined]
    query = select(model).where(column == row_id)
    if for_update:
        begin_write(db.session)
        query = query.with_for_update()
    row = db.session.scalars(query).first()
    if row is None:
        raise not_found(what)
    return row
