"""What ``EVENTBUS_REDIS_URL`` names: one Redis, a Redis Cluster, or a Sentinel-watched master.

Three forms (``rediss`` instead of ``redis`` for TLS in each):

- ``redis://[user:password@]host:port/db`` (and ``unix://``): one Redis, as redis-py reads it;
- ``redis+cluster://[user:password@]host:port[,host:port...]``: a Redis Cluster, found from
  any of its nodes (redis-py's ``RedisCluster``); a cluster has database 0 only;
- ``redis+sentinel://[user:password@]host:port[,host:port...]/<master name>[/db]``: the
  master that the listed Sentinels name (redis-py's ``Sentinel.master_for``); ``user`` and
  ``password`` are the master's; ``?sentinel_password=...`` (and ``sentinel_username``)
  authenticate to the Sentinels themselves when they need it.

:func:`parse_address` checks the form strictly and raises :class:`ValueError` with a message
that never contains the password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from .urls import mask_url

__all__ = ["RedisAddress", "Topology", "parse_address"]

Topology = Literal["single", "cluster", "sentinel"]
_SCHEMES: dict[str, tuple[Topology, bool]] = {
    "redis": ("single", False),
    "rediss": ("single", True),
    "unix": ("single", False),
    "redis+cluster": ("cluster", False),
    "rediss+cluster": ("cluster", True),
    "redis+sentinel": ("sentinel", False),
    "rediss+sentinel": ("sentinel", True),
}


@dataclass(frozen=True)
class RedisAddress:
    """A parsed ``EVENTBUS_REDIS_URL``; ``url`` is the text it came from. Immutable."""

    url: str = field(repr=False)
    topology: Topology
    tls: bool = False
    nodes: tuple[tuple[str, int], ...] = ()
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    master_name: str | None = None
    db: int = 0
    sentinel_username: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return mask_url(self.url)


def parse_address(url: str) -> RedisAddress:
    """Read ``url`` (see the module docstring); :class:`ValueError` if it is not one of them."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in _SCHEMES:
        raise ValueError(
            f"{mask_url(url)!r} is not a Redis URL: use redis://, rediss://, unix://, "
            "redis+cluster:// or redis+sentinel://"
        )
    topology, tls = _SCHEMES[scheme]
    if topology == "single":
        return RedisAddress(url, "single", tls)
    parts = urlsplit(url)
    authority = parts.netloc.rpartition("@")
    user_info, hosts = (authority[0], authority[2]) if authority[1] else ("", authority[2])
    username, _, password = user_info.partition(":")
    nodes = tuple(_node(host, url, default_port=26379 if topology == "sentinel" else 6379)
                  for host in hosts.split(",") if host)  # fmt: skip
    if not nodes:
        raise ValueError(f"{mask_url(url)!r} names no host:port")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    user, secret = unquote(username) or None, unquote(password) or None
    if topology == "cluster":
        if segments not in ([], ["0"]):
            raise ValueError(f"{mask_url(url)!r}: a Redis Cluster has database 0 only")
        return RedisAddress(url, "cluster", tls, nodes, user, secret)
    if not segments or len(segments) > 2:
        raise ValueError(
            f"{mask_url(url)!r}: a Sentinel URL ends with /<master name>[/<db>], "
            "e.g. redis+sentinel://127.0.0.1:26379/mymaster/0"
        )
    if len(segments) == 2 and not segments[1].isdigit():
        raise ValueError(f"{mask_url(url)!r}: the database must be a number")
    return RedisAddress(
        url,
        "sentinel",
        tls,
        nodes,
        user,
        secret,
        master_name=segments[0],
        db=int(segments[1]) if len(segments) == 2 else 0,
        sentinel_username=query.get("sentinel_username"),
        sentinel_password=query.get("sentinel_password"),
    )


def _node(text: str, url: str, *, default_port: int) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not colon or "]" in port:  # no port, or the end of a bracketed IPv6 address
        host, port = text, str(default_port)
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{mask_url(url)!r}: {text!r} is not host:port")
    return host, int(port)
