"""The dashboard's pages and actions (a blueprint; ``init_dashboard`` mounts it).

Every request first passes the authorization hook (``access.py``: 403 otherwise); every
POST then passes the CSRF check (403 otherwise). Pages are rendered on the server; the
one script (``static/eventbus_dashboard/dashboard.js``, shipped in the package) only
refreshes the live parts from the JSON routes. Each replay and purge is logged with who
did it (``dashboard.dead_letter_replayed`` / ``dashboard.dead_letter_purged``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from app.core.events.dead_letters import DeadLetter, DeadLetterStore
from app.core.events.exceptions import EventBusError
from app.log import get_logger
from app.observability.figures import read_figures

from .access import CSRF_COOKIE, check_csrf, csrf_token, new_csrf_nonce
from .charts import sparkline
from .state import dashboard_state

__all__ = ["dashboard_blueprint"]

dashboard_blueprint = Blueprint(
    "eventbus_dashboard",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@dashboard_blueprint.app_template_filter("eventbus_clock")
def _clock(seconds: float) -> str:
    """``HH:MM:SS`` (UTC) of a UNIX time."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%H:%M:%S")


def _app() -> Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]


@dashboard_blueprint.before_request
def _guard() -> None:
    state = dashboard_state(_app())
    who = state.authorizer(request)
    if not who:
        get_logger("eventbus.dashboard").warning(
            "dashboard.refused", path=request.path, remote_addr=request.remote_addr
        )
        abort(403)
    g.dashboard_user = who
    g.dashboard_new_nonce = None
    nonce = request.cookies.get(CSRF_COOKIE)
    if not nonce:
        nonce = g.dashboard_new_nonce = new_csrf_nonce()
    g.dashboard_csrf = csrf_token(_app(), nonce)
    if request.method == "POST":
        problem = check_csrf(_app(), request)
        if problem is not None:
            get_logger("eventbus.dashboard").warning(
                "dashboard.csrf_refused", who=who, path=request.path, problem=problem
            )
            abort(403, description=f"CSRF check failed: {problem}")


@dashboard_blueprint.after_request
def _csrf_cookie(response: Response) -> Response:
    nonce = g.get("dashboard_new_nonce")
    if nonce:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            httponly=True,
            samesite="Strict",
            secure=request.is_secure,
            path=dashboard_state(_app()).prefix or "/",
        )
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
    )
    return response


@dashboard_blueprint.get("/")
def overview() -> str:
    """The event map: producers → events → handlers, with each handler's transport."""
    state = dashboard_state(_app())
    return render_template(
        "eventbus_dashboard/map.html", event_map=state.event_map(_app()), page="map"
    )


@dashboard_blueprint.get("/handlers")
def handlers() -> str:
    """Per-handler live figures: backlog from the broker, calls per minute from here."""
    return render_template("eventbus_dashboard/handlers.html", page="handlers", **_figures())


@dashboard_blueprint.get("/handlers.json")
def handlers_json() -> dict[str, Any]:
    """The same figures as JSON, for the page's refresh."""
    figures = _figures()
    return {
        "handlers": figures["rows"],
        "errors": figures["errors"],
        "outbox": figures["outbox"],
    }


def _figures() -> dict[str, Any]:
    state = dashboard_state(_app())
    figures = read_figures(_app())
    backlog = {(row.handler_id, row.transport): row for row in figures.handlers}
    rows = []
    for sub in _app().extensions["eventbus"].bus.subscriptions():
        row = backlog.get((sub.handler_id, sub.transport))
        counts = state.activity.minute_counts(sub.handler_id)
        rows.append(
            {
                "handler_id": sub.handler_id,
                "event": sub.pattern,
                "transport": sub.transport,
                "pending": None if row is None else row.pending,
                "lag": None if row is None else row.lag,
                "oldest_pending_age_s": None if row is None else row.oldest_pending_age_s,
                "dead_letters": None if row is None else row.dead_letters,
                "handled_per_minute": list(counts.handled),
                "failed_per_minute": list(counts.failed),
                "chart": sparkline(counts.handled, counts.failed),
            }
        )
    outbox = asdict(figures.outbox) if figures.outbox is not None else None
    return {"rows": rows, "errors": figures.errors, "outbox": outbox}


@dashboard_blueprint.get("/dead-letters")
def dead_letters() -> str:
    """Every transport's dead letters, oldest first."""
    letters: list[DeadLetter] = []
    errors: dict[str, str] = {}
    for store in _stores():
        try:
            letters += store.list(200)
        except EventBusError as exc:
            errors[store.transport] = type(exc).__name__
    return render_template(
        "eventbus_dashboard/dead_letters.html",
        page="dead_letters",
        letters=letters,
        errors=errors,
        notice=request.args.get("notice", "")[:200],
    )


@dashboard_blueprint.get("/dead-letters/<transport>/<dead_letter_id>")
def dead_letter(transport: str, dead_letter_id: str) -> str:
    """One dead letter: the reason, the event's metadata and its payload's field names."""
    _, letter = _find(transport, dead_letter_id)
    return render_template(
        "eventbus_dashboard/dead_letter.html", page="dead_letters", letter=letter
    )


@dashboard_blueprint.post("/dead-letters/<transport>/<dead_letter_id>/replay")
def replay(transport: str, dead_letter_id: str) -> BaseResponse:
    """Put the event back for its handler only; the dead letter is removed."""
    store, letter = _find(transport, dead_letter_id)
    try:
        store.replay(dead_letter_id)
    except (KeyError, ValueError) as exc:
        abort(409, description=f"not replayed: {exc}")
    _audit("dashboard.dead_letter_replayed", letter)
    return _back(f"replayed {dead_letter_id}")


@dashboard_blueprint.post("/dead-letters/<transport>/<dead_letter_id>/purge")
def purge(transport: str, dead_letter_id: str) -> BaseResponse:
    """Delete one dead letter for good."""
    store, letter = _find(transport, dead_letter_id)
    store.purge(dead_letter_id)
    _audit("dashboard.dead_letter_purged", letter)
    return _back(f"purged {dead_letter_id}")


@dashboard_blueprint.get("/tail")
def tail() -> str:
    """The events this process published most recently (no payload values)."""
    entries = dashboard_state(_app()).activity.tail()
    return render_template("eventbus_dashboard/tail.html", page="tail", entries=entries)


@dashboard_blueprint.get("/tail.json")
def tail_json() -> dict[str, Any]:
    """The tail as JSON, for the page's refresh."""
    return {"events": [asdict(entry) for entry in dashboard_state(_app()).activity.tail()]}


def _stores() -> Sequence[DeadLetterStore]:
    from transports.operations import dead_letter_stores

    names = _app().extensions["eventbus"].transports
    return dead_letter_stores(_app().config, names)


def _find(transport: str, dead_letter_id: str) -> tuple[DeadLetterStore, DeadLetter]:
    for store in _stores():
        if store.transport != transport:
            continue
        try:
            return store, store.get(dead_letter_id)
        except KeyError:
            break
    abort(404, description="no such dead letter")


def _audit(event: str, letter: DeadLetter) -> None:
    get_logger("eventbus.dashboard").warning(
        event,
        who=g.dashboard_user,
        dead_letter_id=letter.id,
        transport=letter.transport,
        handler_id=letter.handler_id,
        event_type=letter.envelope.type if letter.envelope else None,
        event_id=letter.envelope.id if letter.envelope else None,
    )


def _back(notice: str) -> BaseResponse:
    return redirect(url_for(".dead_letters", notice=notice), code=303)
