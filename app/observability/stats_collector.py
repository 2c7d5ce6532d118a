"""Gauges read at scrape time: per-handler pending, lag, oldest pending age; dead letters;
the outbox backlog (the ``metrics`` extra).

A :class:`FiguresCollector` asks the transports when Prometheus scrapes (one
``read_figures`` per scrape), so the numbers are the broker's own, never a stale copy, and
in gunicorn's multiprocess mode whichever process answers the scrape reports them once.

=================================================  ====================================
``eventbus_handler_pending``                       handler_id, transport
``eventbus_handler_lag``                           handler_id, transport (when known)
``eventbus_handler_oldest_pending_age_seconds``    handler_id, transport (when any)
``eventbus_handler_dead_letters``                 handler_id, transport
``eventbus_dead_letters``                          transport
``eventbus_outbox_backlog``                        (none)
``eventbus_outbox_oldest_pending_age_seconds``     (none)
``eventbus_stats_up``                              source (1: answered, 0: failed)
=================================================  ====================================
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from .figures import read_figures

__all__ = ["FiguresCollector"]

_HANDLER = ("handler_id", "transport")


class FiguresCollector(Collector):
    """Collects ``app``'s live figures (see the module docstring) at each scrape."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        """The gauges, read now."""
        figures = read_figures(self.app)
        pending = GaugeMetricFamily(
            "eventbus_handler_pending",
            "Deliveries taken by a consumer and not yet finished, per handler.",
            labels=_HANDLER,
        )
        lag = GaugeMetricFamily(
            "eventbus_handler_lag",
            "Events waiting for a handler that no consumer has taken yet.",
            labels=_HANDLER,
        )
        oldest = GaugeMetricFamily(
            "eventbus_handler_oldest_pending_age_seconds",
            "Age of the oldest delivery a handler has not finished.",
            labels=_HANDLER,
        )
        handler_dead = GaugeMetricFamily(
            "eventbus_handler_dead_letters",
            "Dead letters kept for a handler.",
            labels=_HANDLER,
        )
        for row in figures.handlers:
            labels = [row.handler_id, row.transport]
            pending.add_metric(labels, row.pending)
            handler_dead.add_metric(labels, row.dead_letters)
            if row.lag is not None:
                lag.add_metric(labels, row.lag)
            if row.oldest_pending_age_s is not None:
                oldest.add_metric(labels, row.oldest_pending_age_s)
        dead = GaugeMetricFamily(
            "eventbus_dead_letters", "Dead letters kept, per transport.", labels=("transport",)
        )
        for transport, count in sorted(figures.dead_letters.items()):
            dead.add_metric([transport], count)
        yield from (pending, lag, oldest, handler_dead, dead)
        if figures.outbox is not None:
            yield GaugeMetricFamily(
                "eventbus_outbox_backlog",
                "Outbox rows not yet sent by the relay.",
                value=figures.outbox.backlog,
            )
            if figures.outbox.oldest_pending_age_s is not None:
                yield GaugeMetricFamily(
                    "eventbus_outbox_oldest_pending_age_seconds",
                    "Age of the oldest unsent outbox row.",
                    value=figures.outbox.oldest_pending_age_s,
                )
        up = GaugeMetricFamily(
            "eventbus_stats_up",
            "Whether a source of these gauges answered this scrape (1) or failed (0).",
            labels=("source",),
        )
        sources = sorted({*self.app.extensions["eventbus"].transports, *figures.errors})
        if figures.outbox is not None or "outbox" in figures.errors:
            sources = sorted({*sources, "outbox"})
        for source in sources:
            up.add_metric([source], 0 if source in figures.errors else 1)
        yield up

    def describe(self) -> Iterator[Metric]:
        """Nothing: collected only when scraped (no call to the broker at registration)."""
        return iter(())
