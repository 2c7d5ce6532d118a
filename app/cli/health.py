"""``flask events health KIND``: is a worker of this kind alive on this host? (healthchecks)

Exit status 0, with one line, when a process of ``KIND`` on this host (``streams-worker``,
``rq-worker``, ``relay``, ``web``) refreshed its record in Redis within ``--max-age``
seconds (default: three heartbeats); 1 otherwise, with one line saying what was found. A
container's healthcheck runs it beside the worker (``docker-compose.yml``); the web process
has ``/health/ready``.
"""

from __future__ import annotations

import socket
import time

import click
from flask import current_app

import transports
from app.processes import KINDS

from .group import events_cli


@events_cli.command("health")
@click.argument("kind", type=click.Choice(KINDS))
@click.option(
    "--max-age", type=click.FloatRange(0.1), default=None, help="Seconds; default 3 beats."
)
def health(kind: str, max_age: float | None) -> None:
    """Exit 0 when a KIND process on this host beat recently; 1 (one line) otherwise."""
    limit = (
        max_age if max_age is not None else 3 * float(current_app.config["EVENTBUS_HEARTBEAT_S"])
    )
    board = transports.process_board(current_app.config)
    if board is None:
        raise click.ClickException("no Redis client installed: pip install 'flask-eventbus[redis]'")
    try:
        processes = board.processes()
    except Exception as exc:
        raise click.ClickException(f"Redis did not answer ({type(exc).__name__})") from exc
    finally:
        board.close()
    host = socket.gethostname()
    now = time.time()
    ages = sorted(
        now - float(entry.get("seen_at", 0))
        for entry in processes
        if entry.get("kind") == kind and entry.get("host") == host
    )
    if ages and ages[0] <= limit:
        click.echo(f"{kind} on {host}: alive, last beat {ages[0]:.1f} s ago")
        return
    found = f"last beat {ages[0]:.1f} s ago" if ages else "no record"
    raise click.ClickException(f"{kind} on {host}: not alive ({found}; limit {limit:g} s)")
