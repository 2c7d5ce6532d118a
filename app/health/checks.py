"""What ``/health/ready`` checks, one function per check, each with a reason.

A check never raises: whatever goes wrong becomes ``ok=False`` and a short reason (an error's
class, never its arguments: no URL, credential or payload reaches the response or the logs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import text

from app.core.events.extension import EventBusState
from app.core.outbox import EXTENSION as OUTBOX_EXTENSION
from app.core.outbox import OutboxRelay
from app.db import db
from app.migrations import schema_status

__all__ = [
    "Check",
    "database_check",
    "outbox_check",
    "readiness",
    "schema_check",
    "transport_check",
]


@dataclass(frozen=True)
class Check:
    """One check's verdict and why."""

    ok: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """``{"ok": ..., "reason": ...}`` for the JSON body."""
        return {"ok": self.ok, "reason": self.reason}


def database_check() -> Check:
    """The database answers ``SELECT 1``."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:
        return Check(False, f"the database did not answer ({type(exc).__name__})")
    finally:
        db.session.rollback()  # end the read: the next checks open their own connections
    return Check(True, "the database answers")


def schema_check(app: Flask) -> Check:
    """Every mounted branch at its head (the web processes refuse to start otherwise, but a
    later deploy may have moved the heads, or a branch may have been taken down since)."""
    try:
        status = schema_status(app)
    except Exception as exc:
        return Check(False, f"the schema could not be read ({type(exc).__name__})")
    return Check(status.at_head, "the schema is at head" if status.at_head else status.reason())


def transport_check(name: str, transport: Any) -> Check:
    """The transport's broker answers (its ``ping()``)."""
    ping = getattr(transport, "ping", None)
    if ping is None:
        return Check(True, f"{name}: nothing to reach")
    try:
        ping()
    except Exception as exc:
        cause = exc.__cause__ or exc
        return Check(False, f"{name}: Redis did not answer ({type(cause).__name__})")
    return Check(True, f"{name}: Redis answers")


def outbox_check(relay: OutboxRelay, max_age_s: float) -> Check:
    """The oldest unsent outbox event is younger than ``max_age_s`` (the relay keeps up)."""
    try:
        stats = relay.store.stats()
    except Exception as exc:
        return Check(False, f"the outbox could not be read ({type(exc).__name__})")
    age = stats.oldest_pending_age_s
    if age is None:
        return Check(True, "the outbox backlog is empty")
    summary = f"{stats.backlog} unsent, the oldest {age:.1f} s old (limit {max_age_s:g} s)"
    return Check(age <= max_age_s, f"outbox: {summary}")


def readiness(app: Flask) -> dict[str, Check]:
    """Every check, by name: ``database``, ``schema``, ``transport:<name>``, ``outbox``."""
    state: EventBusState = app.extensions["eventbus"]
    checks = {"database": database_check()}
    checks["schema"] = (
        schema_check(app) if checks["database"].ok else Check(False, "the database did not answer")
    )
    for name, transport in sorted(state.transports.items()):
        checks[f"transport:{name}"] = transport_check(name, transport)
    relay: OutboxRelay | None = app.extensions.get(OUTBOX_EXTENSION)
    if relay is not None:
        checks["outbox"] = outbox_check(
            relay, float(app.config["EVENTBUS_HEALTH_MAX_OUTBOX_AGE_S"])
        )
    return checks
