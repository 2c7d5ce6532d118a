"""Redis clients for the transports, one kind per role, built from ``EVENTBUS_REDIS_URL``.

:func:`connect` builds a redis-py client for one role:

- ``"publisher"``: retries a command twice on a connection error only (a refused or reset
  connection), never on a timeout, so a publish is not silently written twice because a reply
  was slow; then the caller gets the error.
- ``"worker"``: no retries inside redis-py: the consumer loop sees every error, reconnects
  with its own backoff and re-reads its pending entries (a batch whose reply was lost would
  otherwise sit unseen in its pending list).
- ``"admin"``: operator commands; one retry.

Clients are lazy (they connect on first use) and thread-safe (a connection pool). They
return ``bytes`` (no ``decode_responses``); see ``text``. Passwords never appear in logs: use
``mask_url`` for any URL that is logged or printed.
"""

from __future__ import annotations

import re
from typing import Literal, TypeAlias

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

__all__ = ["RedisClient", "Role", "connect"]

Role = Literal["publisher", "worker", "admin"]
RedisClient: TypeAlias = redis.Redis
"""The client type every transport function takes."""


def connect(
    url: str, role: Role, *, client_name: str | None = None, block_ms: int = 0
) -> RedisClient:
    """A redis-py client for ``role`` (see the module docstring); lazy: it connects on use.

    ``block_ms`` is the longest blocking command the caller sends (``XREADGROUP BLOCK``): the
    socket timeout is that plus 10 s, so a blocked read is never taken for a dead server.
    """
    if role == "publisher":
        retry = Retry(ExponentialBackoff(cap=0.2, base=0.02), 2, (RedisConnectionError,))
    elif role == "worker":
        retry = Retry(NoBackoff(), 0)
    else:
        retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), 1, (RedisConnectionError,))
    return redis.Redis.from_url(
        url,
        socket_timeout=block_ms / 1000 + 10,
        socket_connect_timeout=5,
        socket_keepalive=True,
        retry=retry,
        client_name=_safe_name(client_name),
        health_check_interval=30 if role != "worker" else 0,
    )


def _safe_name(name: str | None) -> str | None:
    return None if name is None else re.sub(r"[^!-~]", "_", name)[:200]
