"""``--metrics-port`` / ``--metrics-host`` of the worker commands: Prometheus metrics served
from the worker process (the ``metrics`` extra), on loopback unless told otherwise."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import Flask

__all__ = ["metrics_options", "start_worker_metrics"]

F = TypeVar("F", bound=Callable[..., Any])


def metrics_options(command: F) -> F:
    """Add ``--metrics-port`` and ``--metrics-host`` to ``command``."""
    command = click.option(
        "--metrics-host",
        default="127.0.0.1",
        show_default=True,
        help="Address the metrics server listens on (0.0.0.0 for a scraper elsewhere).",
    )(command)
    return click.option(
        "--metrics-port",
        type=click.IntRange(0, 65535),
        default=None,
        help="Serve Prometheus metrics on this port (needs the `metrics` extra; 0: any free).",
    )(command)


def start_worker_metrics(app: Flask, port: int | None, host: str, *, forking: bool = False) -> None:
    """Start the metrics server when ``port`` is given; a one-line error otherwise.

    ``forking``: handlers run in forked children (RQ's forking worker), whose counters reach
    the server only through ``PROMETHEUS_MULTIPROC_DIR``: without it, refuse.
    """
    if port is None:
        return
    if forking and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        raise click.UsageError(
            "--metrics-port with the forking RQ worker needs PROMETHEUS_MULTIPROC_DIR "
            "(an empty directory) so the work horses' counts reach it, or use --simple"
        )
    try:
        from app.observability.exposition import start_metrics_server
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"--metrics-port needs {exc.name!r}: pip install 'flask-eventbus[metrics]'"
        ) from exc
    try:
        server, _ = start_metrics_server(app, port, host)
    except OSError as exc:
        raise click.ClickException(f"cannot serve metrics on {host}:{port}: {exc}") from exc
    click.echo(f"metrics on http://{host}:{server.server_port}/metrics", err=True)
