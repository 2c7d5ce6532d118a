"""The bus's processes, as each records itself in Redis: kind, host, pid, routing, last beat.

One hash per key prefix, ``<prefix>:processes``; field ``<kind>@<host>:<pid>``, value a JSON
object (``kind``, ``host``, ``pid``, ``fingerprint``, ``routes``, ``seen_at``: epoch seconds).
Every process re-records itself at each heartbeat; a writer drops records not refreshed for
``forget_after_s``, so the hash stays the set of live processes. One key: one slot on a
cluster.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from .connection import RedisClient
from .text import text

__all__ = ["processes_key", "read_processes", "record_process"]


def processes_key(prefix: str) -> str:
    """The hash that holds the processes of ``prefix``."""
    return f"{prefix}:processes"


def record_process(
    client: RedisClient, prefix: str, record: Mapping[str, Any], forget_after_s: float
) -> None:
    """Write ``record`` (its ``seen_at`` set to now); drop records older than the limit."""
    now = time.time()
    field = f"{record['kind']}@{record['host']}:{record['pid']}"
    key = processes_key(prefix)
    client.hset(key, field, json.dumps({**record, "seen_at": now}, sort_keys=True))
    stale = [
        name
        for name, entry in _entries(client, key)
        if now - float(entry.get("seen_at", 0)) > forget_after_s
    ]
    if stale:
        client.hdel(key, *stale)


def read_processes(client: RedisClient, prefix: str) -> list[dict[str, Any]]:
    """Every record, oldest field name first; unreadable ones are skipped."""
    return [entry for _, entry in sorted(_entries(client, processes_key(prefix)))]


def _entries(client: RedisClient, key: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, value in dict(client.hgetall(key)).items():
        try:
            entry = json.loads(text(value))
        except ValueError:
            continue
        if isinstance(entry, dict):
            found.append((text(name), entry))
    return found
