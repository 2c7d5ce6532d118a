"""The bus dashboard: the event map, live per-handler figures, dead letters, a live tail.

Off by default. ``EVENTBUS_DASHBOARD=true`` mounts it under ``EVENTBUS_DASHBOARD_PREFIX``
(``/eventbus``). It refuses every request the application's authorization hook does not
allow; with no hook set, only loopback requests to an app in debug mode get in::

    from app.dashboard import set_authorizer

    def who_may_operate(request):          # return a name to allow, None to refuse
        user = current_user()              # the application's own login
        return user.email if user and user.is_operator else None

    set_authorizer(app, who_may_operate)

Replay and purge are POST forms with a CSRF token, logged with the name the hook returned.
Nothing is loaded from the internet: the stylesheet and the one script ship in the package.
Broker state is read through the transports' operator hooks (``transports.operations``);
nothing here imports a broker library.
"""

from __future__ import annotations

from flask import Flask

from app.core.events.instrumentation import HOOK

from .access import Authorizer, default_authorizer
from .activity import Activity
from .state import EXTENSION, DashboardState, dashboard_state

__all__ = ["DashboardState", "dashboard_state", "init_dashboard", "set_authorizer"]


class _Observing:
    current: Activity | None = None


def init_dashboard(app: Flask) -> DashboardState:
    """Mount the dashboard on ``app`` and start remembering its activity."""
    from .views import dashboard_blueprint

    prefix = "/" + str(app.config["EVENTBUS_DASHBOARD_PREFIX"]).strip("/")
    prefix = "" if prefix == "/" else prefix
    activity = Activity()
    state = DashboardState(prefix, default_authorizer(app), activity)
    app.extensions[EXTENSION] = state
    app.register_blueprint(dashboard_blueprint, url_prefix=prefix or None)
    if _Observing.current is not None:  # the process has one bus: the last app observes
        HOOK.remove(_Observing.current.observe)
    _Observing.current = activity
    HOOK.add(activity.observe)
    return state


def set_authorizer(app: Flask, authorize: Authorizer) -> None:
    """Let ``authorize(request)`` decide every dashboard request of ``app`` (see above).

    Raises ``KeyError`` when the dashboard is not mounted (``EVENTBUS_DASHBOARD`` off)."""
    state = dashboard_state(app)
    state.authorizer = authorize
    state.custom_authorizer = True
