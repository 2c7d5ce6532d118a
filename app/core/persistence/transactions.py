"""Units of work that write: the transaction takes its locks before its first read.

A service that reads a row and writes based on what it read (a balance, a status) must not
let a concurrent request change that row in between. Write it as one unit::

    def record_payment(invoice_id: str, amount_cents: int) -> Payment:
        with write_transaction():
            invoice = get_or_404(Invoice, invoice_id, "invoice", for_update=True)
            if amount_cents > invoice.balance_cents:
                raise conflict("overpayment", "...")
            invoice.paid_cents += amount_cents
            publish_after_commit(EventType.INVOICE_PAYMENT_RECORDED, {...})
        # committed here (and the events published); rolled back if the block raised

Contract, the same on every supported database:

- :func:`write_transaction` begins the session's transaction as a *write unit*, commits it when
  the block returns and rolls it back when it raises (an ``ApiError`` 409 included).
- A write unit serialises with every other writer on the rows it locks: on PostgreSQL,
  ``for_update`` reads are ``SELECT … FOR UPDATE`` (the row stays locked until the end); on
  SQLite, which has no row locks, the unit begins with ``BEGIN IMMEDIATE`` and so holds the
  database's write lock from its first statement (see :mod:`app.db`). Either way a concurrent
  unit waits, then reads the committed result.
- Entered inside a write unit, :func:`write_transaction` is a SAVEPOINT: its block rolls back
  alone if it raises; its events go out with the outer commit.
- Entered while the session already has a transaction that is *not* a write unit (something
  was read first), it raises :class:`TransactionUsageError`: SQLite cannot turn a read
  transaction into a safe write, so the unit must begin before the first read. End the reads
  with ``db.session.commit()`` or ``rollback()`` first, or move them inside the unit.
- :func:`begin_write` makes the session's next transaction a write unit without managing its
  end; ``get_or_404(..., for_update=True)`` calls it, so a locking read always really locks.

Thread safety: a session belongs to one thread; so do its units.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session, scoped_session

from app.db import WRITE_UNIT, session_or_default

__all__ = ["TransactionUsageError", "begin_write", "in_write_unit", "write_transaction"]

_UNIT = "eventbus.write_unit"  # session.info key: the root SessionTransaction of the unit


class TransactionUsageError(RuntimeError):
    """A write unit was asked for where a transaction that is not one is already open."""


@contextmanager
def write_transaction(session: Session | scoped_session[Any] | None = None) -> Iterator[Session]:
    """Run the block as one write unit of ``session`` (default: ``db.session``); yield the
    session. See the module docstring for the contract."""
    target = session_or_default(session)
    if in_write_unit(target):
        with target.begin_nested():
            yield target
        return
    begin_write(target)
    try:
        yield target
    except BaseException:
        target.rollback()
        raise
    target.commit()


def begin_write(session: Session | scoped_session[Any] | None = None) -> Session:
    """Make sure ``session``'s transaction is a write unit, beginning one if none is open.

    Returns the session. Raises :class:`TransactionUsageError` if a transaction that is not a
    write unit is open. The caller (or an enclosing unit) commits or rolls back.
    """
    target = session_or_default(session)
    if in_write_unit(target):
        return target
    if target.in_transaction():
        raise TransactionUsageError(
            "a write unit must begin before the transaction's first read: this session "
            "already has a read transaction open (commit or roll it back first, or move "
            "the reads inside write_transaction())"
        )
    target.connection(execution_options={WRITE_UNIT: True})
    target.info[_UNIT] = target.get_transaction()
    return target


def in_write_unit(session: Session | scoped_session[Any] | None = None) -> bool:
    """Whether ``session``'s open transaction is a write unit."""
    target = session_or_default(session)
    root = target.get_transaction()
    return root is not None and target.info.get(_UNIT) is root
