"""Redis clients for the transports, one kind per role, built from ``EVENTBUS_REDIS_URL``.

The URL picks the topology (see ``addresses``): one Redis (``redis.Redis``), a Redis Cluster
(``redis.RedisCluster``: it follows ``MOVED``/``ASK`` redirections and slot migrations), or a
Sentinel-watched master (``redis.Redis`` on a ``SentinelConnectionPool``: after a failover
its next connection goes to the new master, and a demoted master's ``READONLY`` reply drops
the connection). :func:`connect` builds a client for one role:

- ``"publisher"``: retries a command twice on a connection error only (a refused or reset
  connection), never on a timeout, so a publish is not silently written twice because a reply
  was slow; then the caller gets the error.
- ``"worker"``: no retries inside redis-py: the consumer loop sees every error, reconnects
  with its own backoff and re-reads its pending entries (a batch whose reply was lost would
  otherwise sit unseen in its pending list). On a cluster, one retry (a slot that moves or a
  node that restarts is then usually absorbed without a backoff).
- ``"admin"``: operator commands; one retry.

Clients are lazy (they connect on first use; a cluster client made while no node answers is
a ``deferred_cluster.DeferredCluster``, since redis-py's connects in its constructor) and
thread-safe (a connection pool). They
return ``bytes`` (no ``decode_responses``); see ``text``. Passwords never appear in logs: use
``mask_url`` for any URL that is logged or printed.
"""

from __future__ import annotations

import re
from typing import Any, Literal, TypeAlias

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import ClusterDownError, SlotNotCoveredError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry
from redis.sentinel import Sentinel

from .addresses import RedisAddress, parse_address
from .deferred_cluster import UNREACHABLE, DeferredCluster

__all__ = ["RedisClient", "Role", "connect", "connect_master", "is_cluster"]

Role = Literal["publisher", "worker", "admin"]
RedisClient: TypeAlias = "redis.Redis | RedisCluster"
"""The client type every transport function takes: one Redis (or a Sentinel master), or a
cluster."""

_RETRIES = {"publisher": 2, "worker": 0, "admin": 1}


def connect(
    url: str | RedisAddress, role: Role, *, client_name: str | None = None, block_ms: int = 0
) -> RedisClient:
    """A redis-py client for ``role`` (see the module docstring); lazy: it connects on use.

    ``block_ms`` is the longest blocking command the caller sends (``XREADGROUP BLOCK``): the
    socket timeout is that plus 10 s, so a blocked read is never taken for a dead server.
    Raises :class:`ValueError` (password masked) for a URL that is not a Redis URL.
    """
    address = url if isinstance(url, RedisAddress) else parse_address(url)
    options: dict[str, Any] = {
        "socket_timeout": block_ms / 1000 + 10,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "client_name": _safe_name(client_name),
    }
    if address.topology == "cluster":
        return _cluster(address, role, options)
    options["retry"] = _retry(role)
    options["health_check_interval"] = 30 if role != "worker" else 0
    if address.topology == "sentinel":
        return _sentinel_master(address, options)
    return redis.Redis.from_url(address.url, **options)


def connect_master(url: str | RedisAddress, **options: Any) -> redis.Redis:
    """A plain ``redis.Redis`` for one Redis or a Sentinel-watched master, with ``options``.

    For code that needs ``redis.Redis`` itself (RQ's queues and workers): a cluster URL raises
    :class:`ValueError`, since RQ's commands span keys in several slots.
    """
    address = url if isinstance(url, RedisAddress) else parse_address(url)
    if address.topology == "cluster":
        raise ValueError(f"{address}: RQ does not support Redis Cluster")
    if address.topology == "sentinel":
        return _sentinel_master(address, options)
    return redis.Redis.from_url(address.url, **options)


def is_cluster(client: object) -> bool:
    """Whether ``client`` talks to a Redis Cluster (multi-key commands must stay in one slot)."""
    return isinstance(client, RedisCluster)


def _retry(role: Role) -> Retry:
    retries = _RETRIES[role]
    if not retries:
        return Retry(NoBackoff(), 0)
    cap, base = (0.2, 0.02) if role == "publisher" else (0.5, 0.05)
    return Retry(ExponentialBackoff(cap=cap, base=base), retries, (RedisConnectionError,))


def _cluster(address: RedisAddress, role: Role, options: dict[str, Any]) -> RedisCluster:
    retries = max(1, _RETRIES[role])
    retry = Retry(
        ExponentialBackoff(cap=0.5, base=0.05),
        retries,
        (RedisConnectionError, ClusterDownError, SlotNotCoveredError, TryAgainError),
    )
    settings: dict[str, Any] = {
        "startup_nodes": [_node(host, port) for host, port in address.nodes],
        "username": address.username,
        "password": address.password,
        "ssl": address.tls,
        "retry": retry,
        **options,
    }
    try:
        return RedisCluster(**settings)
    except UNREACHABLE:  # no node answers now: a client that finds them on first use
        return DeferredCluster(**settings)


def _sentinel_master(address: RedisAddress, options: dict[str, Any]) -> redis.Redis:
    sentinel_options = {
        key: value
        for key, value in (
            ("username", address.sentinel_username),
            ("password", address.sentinel_password),
            ("ssl", address.tls or None),
            ("socket_timeout", 5),
            ("socket_connect_timeout", 5),
        )
        if value is not None
    }
    sentinel = Sentinel(list(address.nodes), sentinel_kwargs=sentinel_options)  # type: ignore[no-untyped-call]
    master: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        address.master_name or "",
        db=address.db,
        username=address.username,
        password=address.password,
        ssl=address.tls,
        **options,
    )
    return master


def _node(host: str, port: int) -> ClusterNode:
    return ClusterNode(host, port)  # type: ignore[no-untyped-call]


def _safe_name(name: str | None) -> str | None:
    return None if name is None else re.sub(r"[^!-~]", "_", name)[:200]
