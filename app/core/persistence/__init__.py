"""Persistence helpers for module authors (Flask-SQLAlchemy; no broker imports).

- :func:`write_transaction`: run a read-modify-write as one unit that takes its locks before
  its first read (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` rows on PostgreSQL) and commits
  at the end; :func:`get_or_404` with ``for_update=True`` reads a row locked.
- :func:`publish_after_commit`: queue an event on the session; it is published only when
  the transaction commits, and dropped when it rolls back.
- :func:`idempotent_handler`: run an event handler in its own transaction, at most once per
  event id (an inbox row per handler and event, in the module's ``<module>_inbox`` table).
- :func:`idempotency_key`: inside an idempotent handler, ``"<event id>:<handler id>"``, the
  key to hand to an external provider (those effects are at least once; the database's are
  exactly once).
- :func:`new_id` / :func:`is_id` / :func:`stable_id`: the 32-hex-character ids of the clinic.
- :class:`UtcDateTime`, :func:`utcnow`, :func:`iso_utc`: aware UTC times on every database.
"""

from .after_commit import PendingEvent, pending_events, publish_after_commit
from .clock import UtcDateTime, iso_utc, utcnow
from .effects import idempotency_key
from .ids import is_id, new_id, stable_id
from .inbox import handler_transaction, idempotent_handler, inbox_table, prune_inbox
from .lookup import get_or_404
from .transactions import TransactionUsageError, begin_write, in_write_unit, write_transaction

__all__ = [
    "PendingEvent",
    "TransactionUsageError",
    "UtcDateTime",
    "begin_write",
    "get_or_404",
    "handler_transaction",
    "idempotency_key",
    "idempotent_handler",
    "in_write_unit",
    "inbox_table",
    "is_id",
    "iso_utc",
    "new_id",
    "pending_events",
    "prune_inbox",
    "publish_after_commit",
    "stable_id",
    "utcnow",
    "write_transaction",
]
