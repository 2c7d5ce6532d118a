"""Which exceptions a Redis call can raise, and how operator commands see them.

redis-py raises :class:`redis.exceptions.RedisError` subclasses for what the server or the
connection says, but its cluster client also raises :class:`RedisClusterException` subclasses
(``SlotNotCoveredError``, ``CrossSlotTransactionError``...) that are NOT ``RedisError``s:
:data:`REDIS_ERRORS` names both, so one ``except`` catches every Redis failure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from redis.exceptions import RedisClusterException, RedisError

from app.core.events.exceptions import TransportError

__all__ = ["REDIS_ERRORS", "describe_error", "redis_errors_as_transport_errors"]

REDIS_ERRORS: tuple[type[Exception], ...] = (RedisError, RedisClusterException)
"""Every exception type a redis-py call raises for a Redis failure (client or server side)."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def describe_error(exc: BaseException, limit: int = 300) -> str:
    """``ClassName: message``, cut to ``limit`` characters (for logs and error messages)."""
    return f"{type(exc).__name__}: {exc}"[:limit]


def redis_errors_as_transport_errors(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Let an operator command see :class:`TransportError` (chained), never a redis error."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except REDIS_ERRORS as exc:
            raise TransportError(f"Redis: {describe_error(exc)}") from exc

    return wrapper
