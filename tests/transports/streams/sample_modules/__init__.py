"""Modules for worker subprocesses in the Redis Streams fault tests (``FLASK_MODULES_PACKAGE``).

Their handlers record every delivery in Redis under the test's key prefix (read from the
same ``FLASK_EVENTBUS_*`` environment the worker is configured by), so the test process can
count what each handler saw: ``<prefix>:rec:<handler id>`` is a hash of payload ``n`` ->
times handled; ``<prefix>:by-worker`` counts handlings per worker process name
(``SAMPLE_WORKER``); ``<prefix>:started`` / ``<prefix>:finished`` count handler calls that began
and ended; ``<prefix>:attempts:<handler id>`` counts calls of the poison handlers.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import redis

_local = threading.local()


def client() -> Any:
    """One Redis client per thread, for the URL the worker itself uses."""
    found = getattr(_local, "client", None)
    if found is None:
        found = redis.Redis.from_url(os.environ["FLASK_EVENTBUS_REDIS_URL"])
        _local.client = found
    return found


def prefix() -> str:
    return os.environ["FLASK_EVENTBUS_KEY_PREFIX"]


def record(handler_id: str, payload: dict[str, Any]) -> None:
    """Count one successful handling of event ``payload["n"]`` by ``handler_id``."""
    sleep_ms = payload.get("sleep_ms", 0)
    if sleep_ms:
        client().incr(f"{prefix()}:started")
        time.sleep(sleep_ms / 1000)
    pipe = client().pipeline(transaction=False)
    pipe.hincrby(f"{prefix()}:rec:{handler_id}", str(payload.get("n", "?")), 1)
    pipe.hincrby(f"{prefix()}:by-worker", os.environ.get("SAMPLE_WORKER", "?"), 1)
    if sleep_ms:
        pipe.incr(f"{prefix()}:finished")
    pipe.execute()
