"""``flask events worker``: consume the handlers routed to Redis Streams in this process."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Protocol

import click
from flask import current_app

from app.core.events.exceptions import ConfigurationError, EventBusError
from app.log import get_logger
from app.processes import record_command_process

from .group import events_cli
from .metrics_port import metrics_options, start_worker_metrics
from .preflight import refuse_unless_schema_at_head
from .progress import counting
from .unrouted import nothing_routed


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
@click.option(
    "--burst",
    is_flag=True,
    help="Handle what is there at the start (pending, retries, backlog), then exit.",
)
@click.option(
    "--consumer-name",
    default=None,
    help="Worker name, unique among running workers (default: <host name>-<process id>); "
    "consumers are <name>:<slot>. A name kept across restarts takes its own pending entries "
    "back at once.",
)
@click.option(
    "--stop-timeout",
    type=click.FloatRange(0.1),
    default=30.0,
    show_default=True,
    help="Seconds to let running handlers finish after SIGTERM/SIGINT; then exit with status 1.",
)
@click.option(
    "--reconnect-attempts",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="With --burst: consecutive failed Redis attempts before giving up (status 1).",
)
@metrics_options
def worker(
    *,
    metrics_port: int | None,
    metrics_host: str,
    handlers: tuple[str, ...],
    concurrency: int,
    burst: bool,
    consumer_name: str | None,
    stop_timeout: float,
    reconnect_attempts: int,
) -> None:
    """Run Redis Streams consumers until SIGTERM/SIGINT (graceful) or, with --burst, idle.

    Exit status 0 after a graceful stop or a finished burst. Status 1 when a consumer
    crashed, a burst worker gave up on an unreachable Redis, handlers were still running
    --stop-timeout seconds after the stop, or on a second SIGTERM/SIGINT (immediate exit).
    After a graceful stop on SIGINT the interrupt is passed on: Click reports "Aborted!".
    """
    from transports.redis_streams import StreamsWorker, select_subscriptions

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not select_subscriptions(app.extensions["eventbus"].bus.subscriptions(), handlers):
        nothing_routed(app.config, "redis-streams", narrowed_by="--handler", burst=burst)
        return
    refuse_unless_schema_at_head(app)
    record_command_process(app, "streams-worker")
    try:
        streams_worker = StreamsWorker.from_app(
            app,
            handlers,
            concurrency=concurrency,
            consumer_name=consumer_name,
            reconnect_attempts=reconnect_attempts,
        )
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from exc
    start_worker_metrics(app, metrics_port, metrics_host)
    restore_signals = install_signal_handlers(streams_worker)
    started = time.monotonic()
    try:
        with counting("handled", lambda: streams_worker.handled):
            streams_worker.run(burst=burst, stop_timeout=stop_timeout)
    except EventBusError as exc:
        click.echo(f"worker stopped: {exc}", err=True)
        sys.exit(1)
    finally:
        streams_worker.close()
        restore_signals()
    click.echo(
        f"worker {streams_worker.name}: handled {streams_worker.handled} event(s) "
        f"in {time.monotonic() - started:.1f} s"
    )


class _Stoppable(Protocol):
    def stop(self) -> None: ...


def install_signal_handlers(worker: _Stoppable) -> Callable[[], None]:
    """SIGTERM/SIGINT stop ``worker`` gracefully; a second one exits at once (status 1).

    The first signal only sets the worker's stop flag (safe in a signal handler), then logs
    ``worker.stopping``; ``StreamsWorker.run`` bounds the time the stop may take. Returns a
    function that puts the previous handlers back and then, if the worker was stopped by a
    signal whose previous handler is Python code (Python's own SIGINT handler, which raises
    ``KeyboardInterrupt``; an embedding program's), raises that signal again for it: the
    worker finishes its work first, but never swallows an interrupt meant for its host
    (a test run that calls the command in-process, a shell script).
    """
    received: list[signal.Signals] = []

    def handle(signum: int, frame: FrameType | None) -> None:
        if received:
            os._exit(1)
        received.append(signal.Signals(signum))
        worker.stop()
        get_logger("eventbus.streams").info("worker.stopping", signal=received[0].name)

    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received and callable(previous[received[0]]):
            signal.raise_signal(received[0])

    return restore
