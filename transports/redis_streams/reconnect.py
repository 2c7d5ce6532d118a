"""How a consumer loop meets Redis errors: back off and retry, recreate a lost group, or give up.

:class:`RedisErrors` counts consecutive failures of one consumer loop, or of the worker's
start (``succeeded`` resets the count). Each failure backs off 0.1 s doubling to 5 s, with
jitter, waiting on the stop event so a stop is never delayed by it; a missing group
(``NOGROUP``: Redis lost its data) is reported at once the first time, so it can be recreated
without waiting. A daemon worker retries for as long as it runs; a burst run raises
:class:`TransportError` (the password in the URL masked) once ``give_up_after``
consecutive attempts failed, so it always ends.

Any exception a Redis call raises counts, not only ``RedisError``: the cluster client raises
``RedisClusterException`` types, and a reply cut short can surface as ``IndexError`` or
``TypeError`` in a parser. Two kinds are not retried, since waiting cannot fix them
(:func:`unrecoverable`): the server refusing our credentials or permissions, and a command
refused for its keys' slots (a key layout that does not fit the cluster). Neither can an
exception that is not a Redis error and repeats ``MAX_UNEXPECTED`` times in a row (a bug, not
an outage). Those raise :class:`TransportError` at once, daemon or burst: the worker stops
with a non-zero exit status and the message.

Thread safety: one instance per consumer thread.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    ClusterCrossSlotError,
    ClusterDownError,
    CrossSlotTransactionError,
    NoPermissionError,
    RedisClusterException,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.core.events.exceptions import TransportError

from ..redis_common import REDIS_ERRORS, describe_error, mask_url

__all__ = [
    "BURST_RECONNECT_ATTEMPTS",
    "MAX_BACKOFF_S",
    "MAX_UNEXPECTED",
    "RedisErrors",
    "is_missing_group",
    "unrecoverable",
]

BURST_RECONNECT_ATTEMPTS = 8
"""Consecutive failed attempts after which a burst consumer gives up (about 6-11 s of backoff)."""
MAX_BACKOFF_S = 5.0
MAX_UNEXPECTED = 10
"""Consecutive non-Redis exceptions of one loop after which it stops trying (about 30 s)."""
_REFUSED = (AuthenticationError, AuthorizationError, NoPermissionError)
_WRONG_SLOTS = (ClusterCrossSlotError, CrossSlotTransactionError)
_REFUSAL_CODES = ("WRONGPASS", "NOAUTH", "NOPERM", "CROSSSLOT")


def is_missing_group(exc: Exception) -> bool:
    """Whether a Redis error says the consumer group (or its stream) is gone."""
    text = str(exc)
    return isinstance(exc, ResponseError) and ("NOGROUP" in text or "no such key" in text.lower())


def unrecoverable(exc: BaseException) -> str | None:
    """Why retrying cannot help after ``exc`` (see the module docstring), else ``None``."""
    if isinstance(exc, _REFUSED) or (
        isinstance(exc, ResponseError) and str(exc).startswith(_REFUSAL_CODES[:3])
    ):
        return "Redis refused the credentials or permissions (check EVENTBUS_REDIS_URL and ACLs)"
    if isinstance(exc, _WRONG_SLOTS) or (
        isinstance(exc, ResponseError) and str(exc).startswith("CROSSSLOT")
    ):
        return (
            "a command spans several cluster slots (use redis+cluster:// or "
            "EVENTBUS_STREAMS_KEY_LAYOUT=hash-tagged on a Redis Cluster)"
        )
    return None


class RedisErrors:
    """Consecutive Redis failures of one loop, and what to do about the next one."""

    def __init__(
        self, log: Any, *, subject: str, redis_url: str, give_up_after: int | None, **context: Any
    ) -> None:
        self.failures = 0
        self.unexpected = 0
        self._log = log
        self._subject = subject
        self._redis_url = redis_url
        self._give_up_after = give_up_after
        self._context = context

    def succeeded(self) -> None:
        """A round trip worked: the next failure starts the backoff again."""
        self.failures = 0
        self.unexpected = 0

    def failed(self, exc: Exception, stop: threading.Event) -> None:
        """Count ``exc``; raise :class:`TransportError` when giving up, else back off.

        The first of consecutive "group missing" errors returns at once (recreate it now).
        """
        self.failures += 1
        redis_error = isinstance(exc, REDIS_ERRORS)
        self.unexpected = 0 if redis_error else self.unexpected + 1
        reason = unrecoverable(exc)
        if reason is None and self.unexpected >= MAX_UNEXPECTED:
            reason = f"{self.unexpected} unexpected errors in a row from the Redis client"
        if reason is not None:
            raise self._gave_up(exc, reason) from exc
        if self._give_up_after is not None and self.failures >= self._give_up_after:
            raise self._gave_up(exc) from exc
        if self.failures == 1 and is_missing_group(exc):
            return
        delay = min(MAX_BACKOFF_S, 0.1 * 2 ** (self.failures - 1)) * (0.5 + random.random() / 2)
        self._log.warning(
            "redis.error" if isinstance(exc, ResponseError) else "redis.unavailable",
            **self._context,
            error=describe_error(exc),
            retry_in_s=round(delay, 3),
            exc_info=exc if self.unexpected == 1 else None,  # a traceback once per run
        )
        stop.wait(delay)

    def retry(self, operation: Callable[[], object], stop: threading.Event) -> bool:
        """Call ``operation`` until it works (``True``) or ``stop`` is set (``False``).

        Connection errors and timeouts count as failures (:meth:`failed`); others propagate.
        """
        while not stop.is_set():
            try:
                operation()
            except (RedisConnectionError, RedisTimeoutError) as exc:
                self.failed(exc, stop)
            except Exception as exc:
                if unrecoverable(exc) is None and not _transient(exc):
                    raise
                self.failed(exc, stop)
            else:
                return True
        return False

    def _gave_up(self, exc: Exception, reason: str | None = None) -> TransportError:
        error = describe_error(exc)
        self._log.error(
            "redis.gave_up", **self._context, attempts=self.failures, error=error, reason=reason
        )
        if reason is not None:
            return TransportError(
                f"worker stopped on {self._subject}: {reason}; Redis at "
                f"{mask_url(self._redis_url)} said {error}"
            )
        return TransportError(
            f"burst worker gave up on {self._subject}: Redis at {mask_url(self._redis_url)} "
            f"still failing after {self.failures} attempts ({error})"
        )


def _transient(exc: Exception) -> bool:
    """Whether a start-up failure may pass by itself (cluster reconfiguring, node down)."""
    return isinstance(exc, ClusterDownError | TryAgainError | RedisClusterException)
