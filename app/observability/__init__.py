"""Seeing the bus work: Prometheus metrics, OpenTelemetry tracing, the live tail.

Everything here is an observer of the bus's one instrumentation hook
(``app.core.events.instrumentation``) and is off unless configured:

- ``EVENTBUS_METRICS`` (the ``metrics`` extra): counters, a handler-duration histogram and
  scrape-time gauges at ``EVENTBUS_METRICS_PATH``; workers serve them on ``--metrics-port``.
- ``EVENTBUS_TRACING`` (the ``tracing`` extra): producer and consumer spans with W3C trace
  context carried in the envelope.

Neither ``prometheus_client`` nor ``opentelemetry`` is imported while its setting is off.
"""

from __future__ import annotations

from flask import Flask

from app.core.events.exceptions import ConfigurationError

__all__ = ["init_observability", "require_extra"]


def require_extra(extra: str, exc: ModuleNotFoundError) -> ConfigurationError:
    """The error for a setting whose optional dependency is missing."""
    return ConfigurationError(
        f"{exc.name!r} is not installed: pip install 'flask-eventbus[{extra}]'"
    )


def init_observability(app: Flask) -> None:
    """Turn on what ``app.config`` asks for; :class:`ConfigurationError` names a missing
    extra."""
    if app.config["EVENTBUS_METRICS"]:
        try:
            from .exposition import init_metrics
        except ModuleNotFoundError as exc:
            raise require_extra("metrics", exc) from exc
        init_metrics(app)
    if app.config["EVENTBUS_TRACING"]:
        try:
            from .tracing import install_tracing
        except ModuleNotFoundError as exc:
            raise require_extra("tracing", exc) from exc
        install_tracing()
