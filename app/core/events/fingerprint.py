"""A process's routing table and its fingerprint, to compare processes with one another.

The routing table maps every subscribed handler id to the transport it runs on in this
process (``EVENTBUS_TRANSPORT`` and ``EVENTBUS_ROUTES`` applied to the mounted modules). Two
processes started with different settings route differently; their fingerprints differ, and
:func:`routing_differences` says which handlers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from .bus import EventBus

__all__ = ["routing_differences", "routing_fingerprint", "routing_table"]


def routing_table(bus: EventBus) -> dict[str, str]:
    """``{handler id: transport}`` of every subscription, sorted by handler id."""
    return dict(sorted((sub.handler_id, sub.transport) for sub in bus.subscriptions()))


def routing_fingerprint(table: Mapping[str, str]) -> str:
    """12 hex digits of the SHA-256 of the table's canonical JSON."""
    canonical = json.dumps(dict(table), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def routing_differences(mine: Mapping[str, str], theirs: Mapping[str, str]) -> list[str]:
    """One line per handler routed differently: ``id: here X, there Y`` (``-``: not here)."""
    return [
        f"{handler_id}: here {mine.get(handler_id, '-')}, there {theirs.get(handler_id, '-')}"
        for handler_id in sorted(set(mine) | set(theirs))
        if mine.get(handler_id) != theirs.get(handler_id)
    ]
