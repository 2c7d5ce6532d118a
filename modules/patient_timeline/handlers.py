"""The timeline's one handler, subscribed to ``*``: it records every event with a patient_id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.core.events import current_event
from app.core.events.envelope import utc_timestamp
from app.core.persistence import idempotent_handler
from app.db import db

from .models import Entry
from .summaries import summarize

__all__ = ["on_event"]


@idempotent_handler
def on_event(payload: dict[str, Any]) -> None:
    """Append the event to its patient's timeline (events without a ``patient_id`` are skipped).

    The envelope gives the event's id, type, time and producer; in-process and in workers.
    """
    patient_id = payload.get("patient_id")
    envelope = current_event()
    if not isinstance(patient_id, str) or envelope is None:
        return
    data = {key: value for key, value in payload.items() if key != "patient_id"}
    db.session.add(
        Entry(
            patient_id=patient_id[:32],
            event_id=envelope.id,
            event_type=envelope.type,
            occurred_at=_fixed_width(envelope.occurred_at),
            producer=envelope.producer[:100],
            correlation_id=envelope.correlation_id,
            causation_id=envelope.causation_id,
            summary=summarize(envelope.type, payload),
            data=data,
        )
    )


def _fixed_width(occurred_at: str) -> str:
    """``occurred_at`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` so that text order is time order."""
    try:
        value = datetime.fromisoformat(occurred_at)
    except ValueError:
        return utc_timestamp()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
