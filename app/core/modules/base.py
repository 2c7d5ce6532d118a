"""``BaseModule`` and ``Manifest``: what a module declares. Declaring has no side effects;
the loader registers blueprints and wires handlers when it mounts the module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from flask import Blueprint, Flask

from app.core.events.subscriptions import Handler

__all__ = ["BaseModule", "Manifest"]


@dataclass(frozen=True)
class Manifest:
    """A module's name (unique), version and the modules it may import (``depends``)."""

    name: str
    version: str = "0.1.0"
    depends: tuple[str, ...] = ()
    description: str = ""


class BaseModule:
    """Subclass in a module package's ``__init__.py`` and set ``manifest``.

    Handlers returned by :meth:`get_event_handlers` get the id ``<module>.<function>`` (a
    leading underscore dropped), which names them in logs, consumer groups and RQ jobs.
    """

    manifest: ClassVar[Manifest]

    def get_blueprint(self) -> Blueprint | None:
        """The module's blueprint (with its URL prefix), or ``None`` for a headless module."""
        return None

    def get_event_handlers(self) -> dict[str, Handler]:
        """``{event name or pattern: handler}`` for the loader to subscribe."""
        return {}

    def init_app(self, app: Flask) -> None:
        """Called once when the module is mounted, after its dependencies."""
