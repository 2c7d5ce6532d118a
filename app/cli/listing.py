"""``flask events list``: every event with its subscribers and their transports."""

from __future__ import annotations

import click
from flask import current_app

from app.core.events import EventType

from .group import events_cli


@events_cli.command("list")
def list_events() -> None:
    """Print a table: event, handler id, transport."""
    bus = current_app.extensions["eventbus"].bus
    rows = [("EVENT", "HANDLER", "TRANSPORT")]
    for event in EventType:
        subs = bus.subscriptions_for(event)
        if not subs:
            rows.append((str(event), "-", "-"))
        rows += [(str(event), sub.handler_id, sub.transport) for sub in subs]
    widths = [max(len(row[col]) for row in rows) for col in range(3)]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
