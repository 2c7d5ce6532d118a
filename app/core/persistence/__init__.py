"""Persistence helpers for module authors (Flask-SQLAlchemy; no broker imports).

- :func:`publish_after_commit`: queue an event on the session; it is published only when
  the transaction commits, and dropped when it rolls back.
- :func:`idempotent_handler`: run an event handler in its own transaction, at most once per
  event id (an inbox row per handler and event, in the module's ``<module>_inbox`` table).
- :func:`new_id` / :func:`is_id`: the 32-hex-character ids the clinic modules use.
- :class:`UtcDateTime`, :func:`utcnow`, :func:`iso_utc`: aware UTC times on every database.
"""

from .after_commit import PendingEvent, pending_events, publish_after_commit
from .clock import UtcDateTime, iso_utc, utcnow
from .ids import is_id, new_id
from .inbox import handler_transaction, idempotent_handler, inbox_table, prune_inbox
from .lookup import get_or_404

__all__ = [
    "PendingEvent",
    "UtcDateTime",
    "get_or_404",
    "handler_transaction",
    "idempotent_handler",
    "inbox_table",
    "is_id",
    "iso_utc",
    "new_id",
    "pending_events",
    "prune_inbox",
    "publish_after_commit",
    "utcnow",
]
