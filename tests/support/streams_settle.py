"""Settling a clinic app whose handlers are routed to Redis Streams (end-to-end tests).

Two ways, both ending with "every event published so far was handled, including the events
the handlers published":

- :func:`background_worker`: a real :class:`~transports.redis_streams.StreamsWorker`
  consuming in background threads for the whole test (as ``flask events worker`` does);
  ``settle()`` polls the groups until they are idle (:func:`streams_idle`).
- :func:`drain_outbox_and_streams`: the outbox relay (``EVENTBUS_OUTBOX_RELAY="none"``) and
  burst workers, run in turn until neither has anything left.

Both raise :class:`AssertionError` when an entry was dead-lettered (a handler failed every
delivery), when the worker crashed, or when the wait exceeds its generous bound; waits poll,
they never put a time limit on an assertion that should hold at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import redis
from flask import Flask

from app.core.outbox import EXTENSION as OUTBOX_EXTENSION
from app.core.outbox import OutboxRelay
from transports.redis_streams import StreamKeys, StreamsWorker, running_worker

__all__ = [
    "SETTLE_TIMEOUT_S",
    "background_worker",
    "drain_outbox_and_streams",
    "raise_dead_letters",
    "streams_idle",
]

SETTLE_TIMEOUT_S = 120.0
"""How long a settle waits for the workers before failing (a bound, not an expectation)."""


def streams_idle(client: Any, plan: Mapping[str, Sequence[str]]) -> bool:
    """Whether every handler's group read and acknowledged everything on its streams.

    ``plan`` maps handler ids (group names) to their streams. One ``MULTI`` reads every
    stream's last id and its groups, so the answer is a consistent snapshot: an entry being
    handled is still pending, and what its handler publishes is written before the ack.
    """
    streams = sorted({stream for streams in plan.values() for stream in streams})
    pipe = client.pipeline(transaction=True)
    for stream in streams:
        pipe.xinfo_stream(stream)
        pipe.xinfo_groups(stream)
    replies = pipe.execute(raise_on_error=False)  # a stream not created yet has nothing
    for index, stream in enumerate(streams):
        info, groups = replies[2 * index], replies[2 * index + 1]
        if isinstance(info, Exception) or isinstance(groups, Exception):
            continue
        last = _text(info["last-generated-id"])
        for group in groups:
            if stream not in plan.get(_text(group["name"]), ()):
                continue
            if group["pending"] or _text(group["last-delivered-id"]) != last:
                return False
    return True


def raise_dead_letters(client: Any, prefix: str) -> None:
    """Fail, quoting them, if any delivery under ``prefix`` was dead-lettered."""
    rows = client.xrange(StreamKeys(prefix).dead_letters, "-", "+", count=20)
    if rows:
        described = [
            {_text(k): _text(v)[:300] for k, v in fields.items() if _text(k) != "payload"}
            for _, fields in rows
        ]
        raise AssertionError(f"{len(rows)} delivery(ies) dead-lettered: {described}")


@contextmanager
def background_worker(app: Flask, redis_url: str, prefix: str) -> Iterator[Callable[[], None]]:
    """Run a streams worker for ``app`` in background threads; yield ``settle``.

    On exit: settle once more (so no handler still writes while the test cleans up), then
    stop the worker gracefully.
    """
    client = redis.Redis.from_url(redis_url)
    try:
        with running_worker(app, consumer_name="clinic-e2e") as worker:

            def settle() -> None:
                deadline = time.monotonic() + SETTLE_TIMEOUT_S
                pause = 0.002
                while not streams_idle(client, worker.plan):
                    if worker.stopping:
                        raise AssertionError("the streams worker stopped (a consumer crashed)")
                    if time.monotonic() > deadline:
                        raise AssertionError(f"streams not idle after {SETTLE_TIMEOUT_S}s")
                    time.sleep(pause)
                    pause = min(0.02, pause * 1.5)
                raise_dead_letters(client, prefix)

            yield settle
            settle()
    finally:
        client.close()


@contextmanager
def drain_outbox_and_streams(
    app: Flask, redis_url: str, prefix: str
) -> Iterator[Callable[[], None]]:
    """Yield ``settle`` for the outbox on Redis Streams: relay, then a burst worker, until quiet.

    Handlers publish through the outbox too, so one round is rarely enough: the relay sends
    the committed rows, a burst worker (``StreamsWorker.run(burst=True)``, what ``drain``
    repeats) handles them, committing new rows, and so on until a round where the relay sent
    nothing and the worker handled nothing. Settles once more on exit. Fails if a row is left
    unsent (the relay could not send it) or a delivery was dead-lettered.
    """
    relay: OutboxRelay = app.extensions[OUTBOX_EXTENSION]
    client = redis.Redis.from_url(redis_url)

    def settle() -> None:
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while True:
            sent = relay.drain()
            worker = StreamsWorker.from_app(app, consumer_name="clinic-e2e")
            try:
                worker.run(burst=True)
            finally:
                worker.close()
            if not sent and not worker.handled:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"outbox and streams still busy after {SETTLE_TIMEOUT_S}s")
        backlog = relay.store.pending_ids()
        if backlog:
            raise AssertionError(f"{len(backlog)} outbox row(s) not sent: {list(backlog)[:5]}")
        raise_dead_letters(client, prefix)

    try:
        yield settle
        settle()
    finally:
        client.close()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
