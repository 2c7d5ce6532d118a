"""The Redis client class RQ's own CLI builds from ``--url``, for every URL form the bus takes.

RQ's ``rq worker --url URL`` (and ``rq info``, ``rq empty``...) builds its connection with
``<--connection-class>.from_url(URL)``; redis-py's ``Redis.from_url`` reads ``redis://``,
``rediss://`` and ``unix://`` only. :class:`BusRedis` reads those the same way and also
``redis+sentinel://`` / ``rediss+sentinel://`` (``transports.redis_common.addresses``): the
master the Sentinels name, followed after a failover, exactly as the bus's own processes
connect. ``flask events rq-command`` prints ``--connection-class
transports.rq_queue.BusRedis`` for such a URL.

A Redis Cluster URL raises :class:`ValueError`: RQ's commands span keys in several slots, so
RQ cannot run on a cluster (``flask events rq-command`` says so and exits 1).
"""

from __future__ import annotations

from typing import Any

import redis

from ..redis_common import connect_master, parse_address

__all__ = ["BusRedis", "needs_bus_redis"]


class BusRedis(redis.Redis):
    """``redis.Redis`` whose :meth:`from_url` also takes the bus's Sentinel URLs."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.Redis:
        """A client for ``url`` (see the module docstring); ``kwargs`` go to redis-py.

        Raises :class:`ValueError` (password masked) for a cluster or a malformed URL.
        """
        address = parse_address(url)
        if address.topology == "single":
            return super().from_url(url, **kwargs)
        return connect_master(address, **kwargs)


def needs_bus_redis(url: str) -> bool:
    """Whether RQ's CLI needs :class:`BusRedis` to read ``url`` (redis-py's own cannot)."""
    return parse_address(url).topology != "single"
