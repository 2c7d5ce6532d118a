"""``/health/live``, ``/health/ready`` and ``/health`` (kept: the same as ready).

- ``GET /health/live``: 200 whenever the process answers (a liveness probe restarts a
  process that stops answering; it must not restart one whose Redis is down).
- ``GET /health/ready``: 200 when every check passes, else 503; JSON with a reason per check
  (:mod:`app.health.checks`): the database answers, the schema is at head, every configured
  transport's broker answers, the outbox's oldest unsent event is younger than
  ``EVENTBUS_HEALTH_MAX_OUTBOX_AGE_S``. A load balancer sends traffic only to ready processes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from pydantic import BaseModel

from app.core.http import operation
from app.db import db

from .checks import readiness

__all__ = ["health_blueprint"]

health_blueprint = Blueprint("health", __name__)


class LiveOut(BaseModel):
    """``status`` is ``live``."""

    status: str


class HealthOut(BaseModel):
    """``status`` is ``ok`` or ``not ready``; ``checks`` holds each check's ``ok`` and
    ``reason``; ``bus``, ``database`` and ``modules`` describe the app."""

    status: str
    checks: dict[str, dict[str, Any]]
    bus: dict[str, Any]
    database: dict[str, Any]
    modules: list[str]


@health_blueprint.get("/health/live")
@operation(responses={200: LiveOut})
def live() -> dict[str, Any]:
    """The process answers."""
    return {"status": "live"}


@health_blueprint.get("/health/ready")
@operation(responses={200: HealthOut, 503: HealthOut})
def ready() -> tuple[dict[str, Any], int]:
    """200 with ``status: ok`` when every check passes, else 503 with ``status: not ready``."""
    return _readiness()


@health_blueprint.get("/health")
@operation(responses={200: HealthOut, 503: HealthOut})
def health() -> tuple[dict[str, Any], int]:
    """The same as ``/health/ready`` (kept for the probes that use it)."""
    return _readiness()


def _readiness() -> tuple[dict[str, Any], int]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    checks = readiness(app)
    ok = all(check.ok for check in checks.values())
    state = app.extensions["eventbus"]
    body = {
        "status": "ok" if ok else "not ready",
        "checks": {name: check.as_dict() for name, check in checks.items()},
        "bus": {
            "default_transport": state.router.default,
            "transports": sorted({"inprocess", *state.transports}),
            "handlers": len(state.bus.subscriptions()),
        },
        "database": {"backend": db.engine.dialect.name, "ok": checks["database"].ok},
        "modules": sorted(app.extensions.get("modules", {})),
    }
    return body, 200 if ok else 503
