"""Serving the metrics: ``GET /metrics`` on the web app, ``--metrics-port`` on workers.

:func:`init_metrics` builds the app's :class:`~app.observability.metrics.BusMetrics`, makes
it the bus's metrics observer and adds the scrape-time gauges. Two modes:

- **One process** (``flask run``, a worker): the counters live in the app's own
  ``CollectorRegistry``; a scrape reads it and the live gauges.
- **Multiprocess** (gunicorn with several workers, or RQ's forking worker): when the
  ``PROMETHEUS_MULTIPROC_DIR`` environment variable names a directory *before*
  ``prometheus_client`` is imported, every process writes its counters there and a scrape
  served by any process sums them (``prometheus_client.multiprocess``). Empty the directory
  at each deployment start (the docs show gunicorn's hooks).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client import start_http_server as _start_http_server

from app.core.events import EventType, UnknownHandlerError

from .metrics import BusMetrics, install
from .stats_collector import FiguresCollector

__all__ = ["EXTENSION", "init_metrics", "multiprocess_mode", "scrape", "start_metrics_server"]

EXTENSION = "eventbus_metrics"
"""``app.extensions`` key: ``(BusMetrics, scrape registry)``."""


def multiprocess_mode() -> bool:
    """Whether counters are shared through ``PROMETHEUS_MULTIPROC_DIR``."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def init_metrics(app: Flask) -> BusMetrics:
    """Count ``app``'s bus events from now on and serve them at ``EVENTBUS_METRICS_PATH``."""
    bus = app.extensions["eventbus"].bus
    known_types = frozenset(EventType)

    def known_handler(handler_id: str) -> bool:
        try:
            bus.handler(handler_id)
        except UnknownHandlerError:
            return False
        return True

    if multiprocess_mode():
        from prometheus_client import multiprocess

        metrics = BusMetrics(
            None, known_event_type=known_types.__contains__, known_handler=known_handler
        )
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        metrics = BusMetrics(
            registry, known_event_type=known_types.__contains__, known_handler=known_handler
        )
    registry.register(FiguresCollector(app))
    install(metrics)
    app.extensions[EXTENSION] = (metrics, registry)
    path = str(app.config["EVENTBUS_METRICS_PATH"])
    app.add_url_rule(path, "eventbus_metrics", _metrics_view, methods=["GET"])
    return metrics


def scrape(app: Flask) -> bytes:
    """The text exposition of ``app``'s metrics, as a scrape would get it."""
    return bytes(generate_latest(app.extensions[EXTENSION][1]))


def _metrics_view() -> Response:
    app: Any = current_app
    return Response(scrape(app._get_current_object()), content_type=CONTENT_TYPE_LATEST)


def start_metrics_server(app: Flask, port: int, host: str = "127.0.0.1") -> Any:
    """Serve ``app``'s metrics on ``host:port`` from a daemon thread (workers'
    ``--metrics-port``); returns prometheus_client's ``(server, thread)``. Port ``0`` picks
    a free port: ``server.server_port`` tells which."""
    if EXTENSION not in app.extensions:
        init_metrics(app)
    registry = app.extensions[EXTENSION][1]
    return _start_http_server(port, addr=host, registry=registry)
