"""Text from Redis replies: one rule for every bytes-or-str value the transports read.

redis-py returns ``bytes`` (the clients here never set ``decode_responses``); stream names,
ids and field names are ASCII, but field values come from whoever wrote the entry. :func:`text`
never raises: invalid UTF-8 becomes U+FFFD, so a hostile byte string can be shown, logged or
compared, and is never mistaken for a valid one (the envelope checks decode strictly).
"""

from __future__ import annotations

__all__ = ["text"]


def text(value: object) -> str:
    """``value`` as ``str``: bytes decoded as UTF-8 (bad bytes → U+FFFD), others ``str()``."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else str(value)
