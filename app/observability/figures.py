"""The live figures of one app, read when asked: per-handler backlog, dead letters, outbox.

The same numbers ``flask events stats`` prints, gathered for the metrics scrape and the
dashboard. They come through the transports' public operator hooks
(``transports.operations``), so nothing here imports a broker library. A transport that
cannot answer (Redis down) is reported in ``errors`` by name and the others still count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask

from app.core.outbox import EXTENSION as OUTBOX
from app.core.outbox import OutboxRelay, OutboxStats

__all__ = ["Figures", "HandlerFigures", "read_figures"]


@dataclass(frozen=True)
class HandlerFigures:
    """One handler's backlog on its transport; ``None`` where the broker cannot tell."""

    handler_id: str
    transport: str
    pending: int
    lag: int | None
    oldest_pending_age_s: float | None
    dead_letters: int


@dataclass(frozen=True)
class Figures:
    """What :func:`read_figures` found."""

    handlers: tuple[HandlerFigures, ...]
    dead_letters: dict[str, int]
    outbox: OutboxStats | None
    errors: dict[str, str] = field(default_factory=dict)


def read_figures(app: Flask) -> Figures:
    """The live figures of ``app`` (call inside its app context or not: it enters one)."""
    from transports.operations import transport_stats

    state = app.extensions["eventbus"]
    handlers: list[HandlerFigures] = []
    dead: dict[str, int] = {}
    errors: dict[str, str] = {}
    with app.app_context():
        subscriptions = state.bus.subscriptions()
        for name in sorted(state.transports):
            try:
                reports = transport_stats(app.config, subscriptions, [name])
            except Exception as exc:  # EventBusError or a broker error: reported, not raised
                errors[name] = type(exc).__name__
                continue
            for report in reports:
                dead[report.transport] = report.dead_letters
                handlers += [
                    HandlerFigures(
                        row.handler_id,
                        report.transport,
                        row.pending,
                        row.lag,
                        row.oldest_pending_age_s,
                        row.dead_letters,
                    )
                    for row in report.handlers
                ]
        relay: OutboxRelay | None = app.extensions.get(OUTBOX)
        outbox = None
        if relay is not None:
            try:
                outbox = relay.store.stats()
            except Exception as exc:  # a database error: reported, never raised to a scrape
                errors["outbox"] = type(exc).__name__
    return Figures(tuple(handlers), dead, outbox, errors)
