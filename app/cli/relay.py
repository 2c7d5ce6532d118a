"""``flask events relay``: send committed outbox rows to their transports."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import click
from flask import current_app

from app.core.outbox import EXTENSION, OutboxRelay
from app.processes import record_command_process

from .group import events_cli
from .metrics_port import metrics_options, start_worker_metrics
from .preflight import refuse_unless_schema_at_head
from .progress import counting


@events_cli.command("relay")
@click.option("--burst", is_flag=True, help="Send everything due, then exit.")
@metrics_options
def relay_command(burst: bool, metrics_port: int | None, metrics_host: str) -> None:
    """Run the outbox relay until SIGTERM/SIGINT (or, with --burst, until nothing is due)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    refuse_unless_schema_at_head(app)
    record_command_process(app, "relay")
    relay: OutboxRelay | None = current_app.extensions.get(EXTENSION)
    if relay is None:
        raise click.ClickException("the outbox is off: set EVENTBUS_OUTBOX=true")
    start_worker_metrics(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        metrics_port,
        metrics_host,
    )
    if burst:
        sent = [0]
        started = time.monotonic()
        try:
            with counting("sent", lambda: sent[0]):
                total = relay.drain(progress=lambda n: sent.__setitem__(0, n))
            click.echo(f"sent {total} event(s) in {time.monotonic() - started:.1f} s")
        finally:
            relay.store.close()
        return
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()
        relay.wake()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    click.echo("outbox relay running; SIGTERM or Ctrl-C stops it")
    relay.run(stop)
