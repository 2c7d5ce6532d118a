"""The notifications HTTP API (JSON, read only): ``/notifications``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from app.core.http import not_found, operation, require_id
from app.db import db

from .bodies import MessageList, MessageListQuery, MessageOut
from .models import Message
from .service import messages_for

__all__ = ["blueprint"]

blueprint = Blueprint("notifications", __name__, url_prefix="/notifications")
Response = tuple[dict[str, Any], int]


@blueprint.get("/patients/<patient_id>")
@operation(query=MessageListQuery, responses={200: MessageList})
def for_patient(patient_id: str, query: MessageListQuery) -> Response:
    """The patient's messages, oldest first (empty for a patient this module never heard of)."""
    require_id(patient_id, "patient")
    items = messages_for(patient_id, query.limit)
    return {"patient_id": patient_id, "items": [message.to_dict() for message in items]}, 200


@blueprint.get("/<notification_id>")
@operation(responses={200: MessageOut})
def show(notification_id: str) -> Response:
    """One message, or 404."""
    message = db.session.get(Message, require_id(notification_id, "notification"))
    if message is None:
        raise not_found("notification")
    return message.to_dict(), 200
