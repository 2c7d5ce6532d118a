"""``flask events list``: a terminal table of every event, its publishers and its subscribers.

One block of rows per ``EventType`` member: where it is published (module and file:line, read
from the source of ``MODULES_PACKAGE``), and each handler subscribed to it on this app's bus
(wildcards included) with the transport it is routed to. ``-`` marks an empty cell.
"""

from __future__ import annotations

from itertools import zip_longest

import click
from flask import current_app

from app.core.events.types import KNOWN_EVENTS

from .group import events_cli

HEADER = ("EVENT", "PUBLISHED BY", "HANDLER", "TRANSPORT")


@events_cli.command("list")
def list_events() -> None:
    """Print a table: event, publishers, handler ids and their transports."""
    from app.architecture import analyse_app

    analysis = analyse_app(current_app)
    bus = current_app.extensions["eventbus"].bus
    rows = [HEADER]
    for event in KNOWN_EVENTS:
        publishers = [
            f"{analysis.module_name(site.component)} ({site.location})"
            for site in analysis.publishers_of(event)
        ] or ["-"]
        subscribers = [(sub.handler_id, sub.transport) for sub in bus.subscriptions_for(event)]
        for index, (publisher, subscriber) in enumerate(
            zip_longest(publishers, subscribers or [("-", "-")], fillvalue=None)
        ):
            handler, transport = subscriber or ("", "")
            rows.append((event if index == 0 else "", publisher or "", handler, transport))
    widths = [max(len(row[col]) for row in rows) for col in range(len(HEADER))]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
