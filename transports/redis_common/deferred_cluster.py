"""A Redis Cluster client made while no node of the cluster answers.

redis-py's ``RedisCluster`` finds the cluster's nodes in its constructor and raises while none
answers, unlike ``redis.Redis``, which connects on first use: a web process built with a
``redis+cluster://`` URL would not start at all while the cluster is down, although its events
can wait in the outbox. ``connection.connect`` therefore builds a ``RedisCluster`` at once when
it can (unchanged), and a :class:`DeferredCluster` when no node answers: a ``RedisCluster``
whose construction is finished on its first use, and tried again on each use until it
succeeds. While the cluster stays down, each use raises :class:`ClusterUnreachableError`, a
redis-py ``ConnectionError``: callers see what a single Redis that is down raises (the
Streams transport's ``prepare`` logs it and returns, workers back off and retry,
``/health/ready`` reports it).

How: ``RedisCluster``'s methods read attributes its constructor sets; until then Python finds
none of them and calls ``__getattr__``, which finishes the construction (under a lock) and
reads the attribute again. ``close`` before that closes nothing.
"""

from __future__ import annotations

import threading
from typing import Any

from redis.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException

__all__ = ["ClusterUnreachableError", "DeferredCluster"]

UNREACHABLE = (RedisClusterException, RedisConnectionError)
"""What ``RedisCluster``'s constructor raises when no startup node answers."""


class ClusterUnreachableError(RedisConnectionError):
    """No node of the Redis Cluster answered (the cause is redis-py's own error)."""


class DeferredCluster(RedisCluster):
    """A ``RedisCluster`` built on first use from ``options`` (see the module docstring)."""

    def __init__(self, **options: Any) -> None:  # RedisCluster.__init__ runs in _build
        self.__dict__.update(_deferred=options, _deferred_lock=threading.RLock())
        self.__dict__.update(_building=False, _built=False)

    def __getattr__(self, name: str) -> Any:
        """Called only for an attribute not set yet: build, then read it again."""
        state = self.__dict__
        if "_deferred" not in state or state["_building"] or state["_built"]:
            raise AttributeError(name)
        self._build()
        return object.__getattribute__(self, name)

    def _build(self) -> None:
        with self._deferred_lock:
            if self._built:
                return
            self.__dict__["_building"] = True
            try:
                RedisCluster.__init__(self, **self._deferred)
            except UNREACHABLE as exc:
                raise ClusterUnreachableError(
                    f"no node of the Redis Cluster answers: {str(exc)[:300]}"
                ) from exc
            finally:
                self.__dict__["_building"] = False
            self.__dict__["_built"] = True

    def close(self) -> None:
        """Close the connections, if the client was ever built."""
        if self.__dict__.get("_built"):
            super().close()
