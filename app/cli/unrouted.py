"""What a worker command does when no handler is routed to it: refuse, or warn and idle.

``flask events worker`` and ``flask events rq-worker`` agree. With
``EVENTBUS_IDLE_WORKER="refuse"`` (the default) the command exits with status 2 and one line
saying which setting routes handlers to it, so a mistyped transport never looks like a
healthy, idle worker. With ``"warn"`` (for a deployment that starts every worker kind before
routing anything to some of them) it logs ``worker.nothing_routed`` and idles until
SIGTERM/SIGINT (status 0), or exits 0 at once with ``--burst``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Mapping
from types import FrameType
from typing import Any

import click

from app.log import get_logger

__all__ = ["IDLE_WORKER_CHOICES", "nothing_routed"]

IDLE_WORKER_CHOICES = ("refuse", "warn")


def nothing_routed(
    config: Mapping[str, Any], transport: str, *, narrowed_by: str, burst: bool
) -> None:
    """Refuse (``click.UsageError``) or warn and idle, per ``EVENTBUS_IDLE_WORKER``.

    ``narrowed_by`` names the command's option that may have selected nothing.
    """
    policy = config.get("EVENTBUS_IDLE_WORKER", "refuse")
    if policy not in IDLE_WORKER_CHOICES:
        raise click.UsageError(
            f"EVENTBUS_IDLE_WORKER={policy!r}: use one of {', '.join(IDLE_WORKER_CHOICES)}"
        )
    advice = (
        f"no handler is routed to {transport} here: set FLASK_EVENTBUS_TRANSPORT={transport}, "
        f"or route some with FLASK_EVENTBUS_ROUTES, or check {narrowed_by}"
    )
    if policy == "refuse":
        raise click.UsageError(f"{advice} (EVENTBUS_IDLE_WORKER=warn: idle instead)")
    get_logger("eventbus.worker").warning(
        "worker.nothing_routed", transport=transport, advice=advice
    )
    if burst:
        return
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopped.wait(1.0):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
