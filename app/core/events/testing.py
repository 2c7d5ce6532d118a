"""Test helpers shipped with the bus (structlog's ``testing.py`` habit): no mocks needed.

``EventRecorder`` subscribes in-process to ``"*"`` and keeps every published event with its
envelope, so a test asserts on what was published without coupling to any consumer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .bus import INPROCESS, EventBus
from .context import current_event
from .envelope import Envelope

__all__ = ["EventRecorder", "RecordedEvent"]


@dataclass(frozen=True)
class RecordedEvent:
    """One event as the recorder saw it."""

    type: str
    payload: dict[str, Any]
    envelope: Envelope | None


class EventRecorder:
    """Records every event published on ``bus`` while started."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self.events: list[RecordedEvent] = []

    def start(self) -> EventRecorder:
        """Subscribe to every event (in-process, whatever the routes say)."""
        self._bus.subscribe("*", self._record, handler_id="eventbus.recorder", transport=INPROCESS)
        return self

    def stop(self) -> None:
        """Unsubscribe."""
        self._bus.unsubscribe("*", self._record)

    def _record(self, payload: dict[str, Any]) -> None:
        envelope = current_event()
        event_type = envelope.type if envelope is not None else "?"
        self.events.append(RecordedEvent(event_type, dict(payload), envelope))

    def __iter__(self) -> Iterator[RecordedEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def types(self) -> list[str]:
        """The recorded event names, in publish order."""
        return [event.type for event in self.events]

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        """Payloads of the recorded events named ``event_type``, in publish order."""
        return [event.payload for event in self.events if event.type == event_type]

    def clear(self) -> None:
        """Forget what was recorded so far."""
        self.events.clear()

    def assert_published(self, event_type: str, **fields: Any) -> dict[str, Any]:
        """Assert one or more ``event_type`` events had ``fields``; return the last such payload."""
        candidates = self.of_type(event_type)
        hits = [p for p in candidates if all(p.get(k) == v for k, v in fields.items())]
        if not hits:
            raise AssertionError(
                f"no {event_type} event with {fields}; recorded {event_type}: {candidates}; "
                f"all types: {self.types()}"
            )
        return hits[-1]

    def assert_not_published(self, event_type: str) -> None:
        """Assert no ``event_type`` event was recorded."""
        found = self.of_type(event_type)
        if found:
            raise AssertionError(f"{len(found)} unexpected {event_type} event(s): {found}")
