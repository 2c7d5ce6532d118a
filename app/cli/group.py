"""The ``events`` click group that every ``flask events`` command attaches to."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from .errors import command_line_errors

__all__ = ["events_cli"]


class EventsGroup(AppGroup):
    """Flask's ``AppGroup`` whose commands report configuration and connection problems as
    one line and an exit status (:mod:`app.cli.errors`), never as a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        with command_line_errors():
            return super().invoke(ctx)


events_cli = EventsGroup("events", help="Inspect and operate the event bus.")
