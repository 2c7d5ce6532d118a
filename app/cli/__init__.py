"""``flask events ...``: the bus's command group. Each command lives in its own file."""

from . import listing  # noqa: F401  (registers `events list`)
from .group import events_cli

__all__ = ["events_cli"]
