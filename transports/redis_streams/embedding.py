"""Running the streams worker inside another program: a test, a script, a settle loop.

- :func:`drain` handles everything published so far, following the events handlers publish:
  burst runs (each bounded by its backlog, see ``backlog``) until one handles nothing,
  at most ``max_rounds`` of them, so a drain always ends.
- :func:`running_worker` runs a worker in background threads for the duration of a ``with``
  block, and always stops it on the way out, within a bounded time.

Both are re-exported by :mod:`transports.redis_streams.worker`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask import Flask

from app.core.events.exceptions import EventBusError
from app.log import get_logger

if TYPE_CHECKING:
    from .worker import StreamsWorker

__all__ = ["DrainUnsettledError", "drain", "running_worker"]


class DrainUnsettledError(EventBusError):
    """``drain`` still found work after its maximum number of burst rounds."""


def drain(
    app: Flask,
    handler_patterns: Sequence[str] = (),
    *,
    consumer_name: str = "drain",
    max_rounds: int = 100,
) -> int:
    """Handle everything published so far, including events the handlers publish; return
    how many entries were handled. Burst workers run until one handles nothing; after
    ``max_rounds`` busy rounds (handlers that keep publishing) raise :class:`DrainUnsettledError`.
    """
    total = 0
    for _ in range(max_rounds):
        worker = _worker_class().from_app(app, handler_patterns, consumer_name=consumer_name)
        try:
            worker.run(burst=True)
        finally:
            worker.close()
        total += worker.handled
        if not worker.handled:
            return total
    raise DrainUnsettledError(
        f"still handling new entries after {max_rounds} burst rounds ({total} handled): "
        "do the handlers publish events in a loop?"
    )


@contextmanager
def running_worker(
    app: Flask,
    handler_patterns: Sequence[str] = (),
    *,
    stop_timeout: float = 60.0,
    **options: Any,
) -> Iterator[StreamsWorker]:
    """A worker consuming in background threads for the duration of the ``with`` block.

    On exit it is stopped and joined for at most ``stop_timeout`` seconds; threads still
    running then (a handler that hangs) are logged and abandoned (daemon threads).
    """
    worker = _worker_class().from_app(app, handler_patterns, **options)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        if not worker.join(timeout=stop_timeout):
            stuck = worker.running_threads()
            get_logger("eventbus.streams").error("worker.stop_timed_out", threads=stuck)
        worker.close()


def _worker_class() -> type[StreamsWorker]:
    from .worker import StreamsWorker  # the worker module re-exports this one

    return StreamsWorker
