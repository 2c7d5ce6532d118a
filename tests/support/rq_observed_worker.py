"""The bus's ``BusWorker`` with a window for the clinic end-to-end suite, run by ``rq worker``.

The clinic suite asserts on two things a handler does in its own process: the events it
publishes (``published_events``) and the messages it hands to the notifications sender (the
module's ``RecordingSender``). When the handlers run in an ``rq worker`` subprocess, those
happen over there. This worker class adds exactly that window and nothing else::

    rq worker --worker-class tests.support.rq_observed_worker.ObservedBusWorker ...

(the documented settings otherwise: ``BusJob``, the JSON serializer, descriptions out of the
logs, the scheduler). After the app is built (``create_app()`` from the ``FLASK_*``
environment, before the first fork, so work horses inherit both hooks):

- an in-process subscriber to ``"*"`` pushes every envelope published in the worker
  (``Envelope.to_dict()`` as JSON) to the Redis list :func:`events_key`;
- the notifications sender is wrapped: each message it sent is also pushed, as JSON, to
  :func:`sent_key`.

Both lists live under the worker's ``EVENTBUS_KEY_PREFIX``; the test side pops them
(:mod:`tests.support.rq_clinic`). Failure: if Redis refuses the push, the handler fails
and RQ retries it, as for any handler error.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import redis
from flask import Flask

from app.core.events import current_event
from app.core.events.bus import INPROCESS
from transports import rq_queue
from transports.rq_queue import BusWorker

__all__ = ["OBSERVER_ID", "ObservedBusWorker", "events_key", "observe", "sent_key"]

OBSERVER_ID = "tests.rq_observer"
"""The handler id of the worker-side subscriber (in-process only, never a job)."""


def events_key(prefix: str) -> str:
    """The list of envelopes published in the worker."""
    return f"{prefix}:observed:events"


def sent_key(prefix: str) -> str:
    """The list of messages the worker's notifications sender sent."""
    return f"{prefix}:observed:sent"


class _MirroredSender:
    """Sends through ``inner``, then records the message in Redis."""

    def __init__(self, inner: Any, client: redis.Redis, key: str) -> None:
        self.inner = inner
        self.client = client
        self.key = key

    def send(self, message: Any) -> None:
        self.inner.send(message)
        self.client.rpush(self.key, json.dumps(dataclasses.asdict(message)))


def observe(app: Flask) -> None:
    """Install both hooks on ``app`` (idempotent)."""
    if app.extensions.get(OBSERVER_ID):
        return
    prefix = str(app.config["EVENTBUS_KEY_PREFIX"])
    client = redis.Redis.from_url(str(app.config["EVENTBUS_REDIS_URL"]))

    def record(payload: dict[str, Any]) -> None:
        envelope = current_event()
        if envelope is not None:
            client.rpush(events_key(prefix), json.dumps(envelope.to_dict()))

    bus = app.extensions["eventbus"].bus
    bus.subscribe("*", record, handler_id=OBSERVER_ID, transport=INPROCESS)
    state = app.extensions.get("notifications")
    if state is not None:
        state.sender = _MirroredSender(state.sender, client, sent_key(prefix))
    app.extensions[OBSERVER_ID] = True


class ObservedBusWorker(BusWorker):
    """``BusWorker`` whose app carries the observation hooks (see the module docstring)."""

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """Build the app, observe it, then run RQ's work loop."""
        runtime = rq_queue.runtime()
        if runtime.app is not None:
            observe(runtime.app)
        return super().work(*args, **kwargs)
