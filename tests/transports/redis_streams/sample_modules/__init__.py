"""Modules for worker subprocesses in the Redis Streams fault tests (``FLASK_MODULES_PACKAGE``).

Their handlers record every delivery in Redis under the test's key prefix (read from the
same ``FLASK_EVENTBUS_*`` environment the worker is configured by), so the test process can
count what each handler saw: ``<prefix>:rec:<handler id>`` is a hash of payload ``n`` ->
times handled; ``<prefix>:by-worker`` counts handlings per worker process name
(``SAMPLE_WORKER``); ``<prefix>:started`` / ``<prefix>:finished`` count handler calls that began
and ended (events with ``sleep_ms``); ``<prefix>:attempts:<handler id>`` counts calls of the
poison handlers.

Two ways for a test to catch a worker provably in the middle of a handler, so that its faults
happen at a known point rather than on a timer (each wait is bounded by ``HOLD_LIMIT_S``):

- the gate (``SAMPLE_GATE_AFTER=K`` in the worker's environment): every handler call of an
  event with ``sleep_ms`` whose ``started`` number is above ``K`` waits, after counting itself
  started, until the key ``<prefix>:gate-open`` exists;
- the hold (``SAMPLE_ARMABLE=1``): when the test sets ``<prefix>:arm:<worker>``, the next
  handler call of that worker on an event it never held before takes the arm, writes
  ``<prefix>:holding:<worker>`` and waits while that key exists (the test kills the worker,
  then deletes it). An event is held at most once per handler, so repeated kills never push
  one event towards the delivery limit.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from transports.redis_common import connect

HOLD_LIMIT_S = 120.0
"""The longest a gated or held handler waits (a guard: the tests release or kill it first)."""

_local = threading.local()


def client() -> Any:
    """One Redis client per thread, for the URL the worker itself uses."""
    found = getattr(_local, "client", None)
    if found is None:
        found = connect(os.environ["FLASK_EVENTBUS_REDIS_URL"], "admin", block_ms=20_000)
        _local.client = found
    return found


def prefix() -> str:
    return os.environ["FLASK_EVENTBUS_KEY_PREFIX"]


def record(handler_id: str, payload: dict[str, Any]) -> None:
    """Count one successful handling of event ``payload["n"]`` by ``handler_id``."""
    sleep_ms = payload.get("sleep_ms", 0)
    if sleep_ms:
        started = int(client().incr(f"{prefix()}:started"))
        _pass_gate(started)
        time.sleep(sleep_ms / 1000)
    _hold_if_armed(f"{handler_id}:{payload.get('n', '?')}")
    pipe = client().pipeline(transaction=False)
    pipe.hincrby(f"{prefix()}:rec:{handler_id}", str(payload.get("n", "?")), 1)
    pipe.hincrby(f"{prefix()}:by-worker", os.environ.get("SAMPLE_WORKER", "?"), 1)
    if sleep_ms:
        pipe.incr(f"{prefix()}:finished")
    pipe.execute()


def _wait_while(condition: Any) -> None:
    deadline = time.monotonic() + HOLD_LIMIT_S
    while condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def _pass_gate(started: int) -> None:
    after = os.environ.get("SAMPLE_GATE_AFTER")
    if after is None or started <= int(after):
        return
    _wait_while(lambda: not client().exists(f"{prefix()}:gate-open"))


def _hold_if_armed(delivery: str) -> None:
    if not os.environ.get("SAMPLE_ARMABLE"):
        return
    worker = os.environ.get("SAMPLE_WORKER", "?")
    arm, holding = f"{prefix()}:arm:{worker}", f"{prefix()}:holding:{worker}"
    if not client().delete(arm):
        return  # not armed, or another handler thread took the arm
    if not client().sadd(f"{prefix()}:held", delivery):
        client().set(arm, 1)  # held once already: leave the arm to a fresh delivery
        return
    client().set(holding, delivery)
    _wait_while(lambda: client().exists(holding))
