"""A sample module for the outbox tests: writes a row and publishes, or rolls back.

``POST /ledger/<n>`` with ``{"fail": true}`` writes the row, queues ``patient.created`` and
rolls back (409); otherwise it commits (201). Two handlers (routed to a worker by the tests):
``count`` appends every delivery's patient id to the Redis list ``LEDGER_KEY`` (duplicates
included), and the idempotent ``record`` writes one ``ledger_effects`` row per event.
"""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint, current_app, request
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.events import EventType
from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest
from app.core.persistence import idempotent_handler, publish_after_commit
from app.db import Model, db

blueprint = Blueprint("ledger", __name__, url_prefix="/ledger")


class LedgerEntry(Model):
    __tablename__ = "ledger_entries"
    n: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class LedgerEffect(Model):
    __tablename__ = "ledger_effects"
    patient_id: Mapped[str] = mapped_column(String(40), primary_key=True)


@blueprint.post("/<int:n>")
def write(n: int) -> tuple[dict[str, Any], int]:
    db.session.add(LedgerEntry(n=n))
    publish_after_commit(EventType.PATIENT_CREATED, {"patient_id": f"p{n}", "clinic_id": "c"})
    if (request.get_json(silent=True) or {}).get("fail"):
        db.session.rollback()
        return {"n": n, "committed": False}, 409
    db.session.commit()
    return {"n": n, "committed": True}, 201


def count(payload: dict[str, Any]) -> None:
    client = redis.Redis.from_url(current_app.config["EVENTBUS_REDIS_URL"])
    client.rpush(current_app.config["LEDGER_KEY"], payload["patient_id"])
    client.close()


@idempotent_handler(module="ledger")
def record(payload: dict[str, Any]) -> None:
    db.session.add(LedgerEffect(patient_id=payload["patient_id"]))


class LedgerModule(BaseModule):
    manifest = Manifest("ledger")

    def get_blueprint(self) -> Blueprint:
        return blueprint

    def get_event_handlers(self) -> dict[str, Handler]:
        return {EventType.PATIENT_CREATED: count, "patient.*": record}
