"""The ``events`` click group that every ``flask events`` command attaches to."""

from flask.cli import AppGroup

__all__ = ["events_cli"]

events_cli = AppGroup("events", help="Inspect and operate the event bus.")
