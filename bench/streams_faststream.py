"""The peer row of ``bench.streams``: FastStream's batch consumer draining a Redis stream.

FastStream (the ``bench`` extra) is optional: :func:`available` says whether it is installed,
and ``bench.streams`` prints a line saying the row was skipped when it is not. The stream is
filled with entries in FastStream's own format (one message published through its broker,
read back and copied), so it parses what it would parse in production; its subscriber is a
``StreamSub`` consumer group with ``batch=True`` and ``max_records=100`` and a no-op handler,
acknowledging as FastStream does.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import logging
import time
from typing import Any

import redis

__all__ = ["GROUP", "available", "drain_rate", "fill", "version"]

GROUP = "bench.faststream"
_TIMEOUT_S = 300.0
_QUIET = logging.getLogger("bench.faststream")
_QUIET.setLevel(logging.CRITICAL)  # not the read its stop interrupts


def available() -> bool:
    """Whether FastStream's Redis broker can be imported."""
    return importlib.util.find_spec("faststream") is not None


def version() -> str:
    """The installed FastStream's version."""
    return importlib.metadata.version("faststream")


def fill(url: str, stream: str, payload: dict[str, Any], count: int) -> None:
    """Put ``count`` FastStream messages carrying ``payload`` on ``stream``."""
    from faststream.redis import RedisBroker

    sample = f"{stream}:sample"

    async def publish_one() -> None:
        async with RedisBroker(url, logger=_QUIET) as broker:
            await broker.publish(payload, stream=sample)

    asyncio.run(publish_one())
    client = redis.Redis.from_url(url)
    try:
        fields: Any = client.xrange(sample)[0][1]  # type: ignore[index]
        client.delete(sample, stream)
        for start in range(0, count, 1000):
            pipe = client.pipeline(transaction=False)
            for _ in range(min(1000, count - start)):
                pipe.xadd(stream, fields)
            pipe.execute()
    finally:
        client.close()


def drain_rate(url: str, stream: str, count: int) -> float:
    """Events per second for one FastStream batch subscriber to consume ``count`` entries."""
    from faststream.redis import RedisBroker, StreamSub

    client = redis.Redis.from_url(url)
    try:
        client.xgroup_destroy(stream, GROUP)
        client.xgroup_create(stream, GROUP, id="0")
    finally:
        client.close()

    async def run() -> float:
        broker = RedisBroker(url, logger=_QUIET)
        done = asyncio.Event()
        seen = 0
        finished = 0.0

        subscriber = broker.subscriber(
            stream=StreamSub(stream, group=GROUP, consumer="bench", batch=True, max_records=100)
        )

        async def handle(messages: list[Any]) -> None:
            nonlocal seen, finished
            seen += len(messages)
            if seen >= count and not done.is_set():
                finished = time.perf_counter()
                done.set()

        subscriber(handle)

        started = time.perf_counter()
        async with broker:
            await broker.start()
            await asyncio.wait_for(done.wait(), _TIMEOUT_S)
        return count / (finished - started)

    return asyncio.run(run())
