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

from flask import Flask

from app.core.outbox import EXTENSION as OUTBOX_EXTENSION
from app.core.outbox import OutboxRelay
from transports.redis_common import connect, is_cluster
from transports.redis_streams import (
    StreamKeys,
    StreamsDeadLetterStore,
    StreamsSettings,
    StreamsWorker,
    running_worker,
)

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

    ``plan`` maps handler ids (group names) to their streams. On one Redis, one ``MULTI``
    reads every stream's last id and its groups, so the answer is a consistent snapshot: an
    entry being handled is still pending, and what its handler publishes is written before
    the ack. A Redis Cluster has no ``MULTI`` across slots: two snapshots in a row must agree
    (idle, and the same last ids), so an event written between two reads is not missed.
    """
    streams = sorted({stream for streams in plan.values() for stream in streams})
    if not is_cluster(client):
        return _idle_snapshot(client, plan, streams, transaction=True) is not None
    first = _idle_snapshot(client, plan, streams, transaction=False)
    return first is not None and first == _idle_snapshot(client, plan, streams, transaction=False)


def _idle_snapshot(
    client: Any, plan: Mapping[str, Sequence[str]], streams: Sequence[str], *, transaction: bool
) -> dict[str, str] | None:
    """Each stream's last id if every group of ``plan`` is idle on it, else ``None``."""
    pipe = client.pipeline(transaction=transaction)
    for stream in streams:
        pipe.xinfo_stream(stream)
        pipe.xinfo_groups(stream)
    replies = pipe.execute(raise_on_error=False)  # a stream not created yet has nothing
    last_ids = {}
    for index, stream in enumerate(streams):
        info, groups = replies[2 * index], replies[2 * index + 1]
        if isinstance(info, Exception) or isinstance(groups, Exception):
            continue
        last = _text(info["last-generated-id"])
        last_ids[stream] = last
        for group in groups:
            if stream not in plan.get(_text(group["name"]), ()):
                continue
            if group["pending"] or _text(group["last-delivered-id"]) != last:
                return None
    return last_ids


def raise_dead_letters(client: Any, keys: StreamKeys) -> None:
    """Fail, quoting them, if any delivery under ``keys``'s prefix was dead-lettered."""
    letters = StreamsDeadLetterStore(client, keys).list(20)
    if letters:
        described = [
            {k: v[:300] for k, v in letter.raw.items() if k != "payload"}
            | {"handler": letter.handler_id, "reason": letter.reason[:300]}
            for letter in letters
        ]
        raise AssertionError(f"{len(letters)} delivery(ies) dead-lettered: {described}")


@contextmanager
def background_worker(app: Flask, redis_url: str, prefix: str) -> Iterator[Callable[[], None]]:
    """Run a streams worker for ``app`` in background threads; yield ``settle``.

    On exit: settle once more (so no handler still writes while the test cleans up), then
    stop the worker gracefully.
    """
    client = bounded_client(redis_url)
    keys = StreamsSettings.from_config(app.config).keys
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
                raise_dead_letters(client, keys)

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
    client = bounded_client(redis_url)
    keys = StreamsSettings.from_config(app.config).keys

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
        raise_dead_letters(client, keys)

    try:
        yield settle
        settle()
    finally:
        client.close()


def bounded_client(url: str) -> Any:
    """A client of any ``EVENTBUS_REDIS_URL`` form whose waits are bounded."""
    return connect(url, "admin", block_ms=20_000)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
