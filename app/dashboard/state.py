"""The dashboard's state in ``app.extensions``: the authorizer, the activity, the map."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Flask

from .access import Authorizer
from .activity import Activity
from .event_map import EventMap, build_event_map

__all__ = ["EXTENSION", "DashboardState", "dashboard_state"]

EXTENSION = "eventbus_dashboard"


@dataclass
class DashboardState:
    """What one app's dashboard holds. ``authorizer`` is the hook in force (the app's, or
    the loopback-in-debug default)."""

    prefix: str
    authorizer: Authorizer
    activity: Activity
    custom_authorizer: bool = False
    _map: EventMap | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def event_map(self, app: Flask) -> EventMap:
        """The event map, built on first use and kept."""
        with self._lock:
            if self._map is None:
                self._map = build_event_map(app)
            return self._map


def dashboard_state(app: Flask) -> DashboardState:
    """``app``'s dashboard state; ``KeyError`` when the dashboard is not mounted."""
    state: DashboardState = app.extensions[EXTENSION]
    return state
