"""Side effects outside the database: which are exactly-once, and the key that makes the
others safe to repeat.

An :func:`~app.core.persistence.idempotent_handler` commits its database writes together with
its inbox row, so they happen **exactly once** per (event, handler), however often a remote
transport delivers the event. A call to the outside world (an e-mail or SMS provider, a
payment gateway, a webhook) cannot join that transaction: a worker killed after the call and
before the commit leaves no inbox row, the event is delivered again, and the call is made
again. Such effects are **at least once**. Make them safe to repeat by passing the provider
the handling's :func:`idempotency_key` (an ``Idempotency-Key`` header, a mail ``Message-ID``,
a provider's client reference): it is the same on every delivery of one event to one handler,
so a provider that deduplicates on it acts once.

Thread and task safety: the key lives in a ``ContextVar``, set around each idempotent handler
call and reset after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["handling", "idempotency_key"]

_HANDLING: ContextVar[str | None] = ContextVar("eventbus_handling", default=None)


def idempotency_key() -> str | None:
    """``"<event id>:<handler id>"`` of the idempotent handler running now (the same on every
    redelivery of that event to that handler); ``None`` outside one, or without an event."""
    return _HANDLING.get()


@contextmanager
def handling(event_id: str, handler_id: str) -> Iterator[str]:
    """Make :func:`idempotency_key` answer for this (event, handler) inside the block."""
    key = f"{event_id}:{handler_id}"
    token = _HANDLING.set(key)
    try:
        yield key
    finally:
        _HANDLING.reset(token)
