"""The timeline HTTP API (JSON, read only): ``/timeline``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import select

from app.core.http import operation, require_id
from app.db import db

from .bodies import Timeline, TimelineQuery
from .models import Entry

__all__ = ["blueprint"]

blueprint = Blueprint("patient_timeline", __name__, url_prefix="/timeline")
Response = tuple[dict[str, Any], int]


@blueprint.get("/patients/<patient_id>")
@operation(query=TimelineQuery, responses={200: Timeline})
def for_patient(patient_id: str, query: TimelineQuery) -> Response:
    """The patient's events in the order they occurred: ``?limit=200&offset=0``."""
    require_id(patient_id, "patient")
    statement = (
        select(Entry)
        .where(Entry.patient_id == patient_id)
        .order_by(Entry.occurred_at, Entry.seq)
        .limit(query.limit)
        .offset(query.offset)
    )
    entries = db.session.scalars(statement).all()
    return {"patient_id": patient_id, "entries": [entry.to_dict() for entry in entries]}, 200
