"""``GET /health``: the bus transport(s) and whether the database answers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from pydantic import BaseModel
from sqlalchemy import text

from app.core.http import operation
from app.db import db

__all__ = ["health_blueprint"]

health_blueprint = Blueprint("health", __name__)


class HealthOut(BaseModel):
    """``status`` is ``ok`` or ``degraded``; ``bus``, ``database`` and ``modules`` say why."""

    status: str
    bus: dict[str, Any]
    database: dict[str, Any]
    modules: list[str]


@health_blueprint.get("/health")
@operation(responses={200: HealthOut, 503: HealthOut})
def health() -> tuple[dict[str, Any], int]:
    """200 with ``status: ok`` when the database answers, else 503 with the error class."""
    state = current_app.extensions["eventbus"]
    database: dict[str, Any] = {"backend": db.engine.dialect.name}
    try:
        db.session.execute(text("SELECT 1"))
        database["ok"] = True
    except Exception as exc:
        database.update(ok=False, error=type(exc).__name__)
    body = {
        "status": "ok" if database["ok"] else "degraded",
        "bus": {
            "default_transport": state.router.default,
            "transports": sorted({"inprocess", *state.transports}),
            "handlers": len(state.bus.subscriptions()),
        },
        "database": database,
        "modules": sorted(current_app.extensions.get("modules", {})),
    }
    return body, 200 if database["ok"] else 503
