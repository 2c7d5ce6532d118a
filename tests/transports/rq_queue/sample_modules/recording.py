"""What the sample handlers share: a Redis client and where they write, per process."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import redis
from flask import current_app

from app.core.events import current_event
from transports.redis_common import connect_master

__all__ = ["attempt", "client", "key", "mark", "record"]


@cache
def client(url: str) -> redis.Redis:
    """One client per URL in this process (a Sentinel URL: the master it names)."""
    return connect_master(url)


def key(name: str) -> str:
    """``<EVENTBUS_KEY_PREFIX>:sample:<name>``: where a handler writes."""
    return f"{current_app.config['EVENTBUS_KEY_PREFIX']}:sample:{name}"


def _redis() -> redis.Redis:
    return client(current_app.config["EVENTBUS_REDIS_URL"])


def record(handler: str, payload: dict[str, Any]) -> None:
    """Append what ``handler`` received (payload, envelope ids, pid) to its list."""
    event = current_event()
    entry = {
        "payload": payload,
        "event_id": event.id if event else None,
        "correlation_id": event.correlation_id if event else None,
        "pid": os.getpid(),
    }
    _redis().rpush(key(handler), json.dumps(entry))


def attempt(handler: str) -> int:
    """Count one more attempt of ``handler``; return the count."""
    return int(_redis().incr(key(f"attempts:{handler}")))


def mark(name: str, value: str) -> None:
    """Set a marker the test process waits for."""
    _redis().set(key(name), value)
