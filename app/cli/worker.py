"""``flask events worker``: consume the handlers routed to Redis Streams in this process."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Protocol

import click
from flask import current_app

from app.core.events.exceptions import ConfigurationError
from app.log import get_logger

from .group import events_cli


@events_cli.command("worker")
@click.option(
    "--handler",
    "handlers",
    multiple=True,
    metavar="PATTERN",
    help="Handler-id pattern (shell style, repeatable). Default: every handler routed to "
    "redis-streams.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Consumer threads per handler, each with its own consumer name.",
)
@click.option("--burst", is_flag=True, help="Exit once nothing is left to do (drain).")
@click.option(
    "--consumer-name",
    default=None,
    help="Stable worker name (default: the host name); consumers are <name>:<slot>.",
)
def worker(
    handlers: tuple[str, ...], concurrency: int, burst: bool, consumer_name: str | None
) -> None:
    """Run Redis Streams consumers until SIGTERM/SIGINT (graceful) or, with --burst, idle."""
    from transports.streams_worker import StreamsWorker, WorkerCrashedError

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        streams_worker = StreamsWorker.from_app(
            app, handlers, concurrency=concurrency, consumer_name=consumer_name
        )
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from exc
    restore_signals = install_signal_handlers(streams_worker)
    try:
        streams_worker.run(burst=burst)
    except WorkerCrashedError as exc:
        click.echo(f"worker stopped: {exc}", err=True)
        sys.exit(1)
    finally:
        restore_signals()
        streams_worker.close()


class _Stoppable(Protocol):
    @property
    def stopping(self) -> bool: ...

    def stop(self) -> None: ...


def install_signal_handlers(worker: _Stoppable) -> Callable[[], None]:
    """SIGTERM/SIGINT stop ``worker`` gracefully; a second one exits at once (status 1).

    Returns a function that puts the previous handlers back.
    """

    def handle(signum: int, frame: FrameType | None) -> None:
        if worker.stopping:
            os._exit(1)
        get_logger("eventbus.streams").info("worker.stopping", signal=signal.Signals(signum).name)
        worker.stop()

    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore
