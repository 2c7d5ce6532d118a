"""Dead letters: events a worker could not handle, kept with the reason, for an operator.

Each remote transport that keeps dead letters provides a :class:`DeadLetterStore` (the Redis
Streams dead-letter stream, RQ's failed-job registry for bus jobs). ``flask events dlq``
works on all of them through this protocol; ``app/`` never imports a broker library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .envelope import Envelope

__all__ = ["DeadLetter", "DeadLetterStore"]


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered delivery: which event, for which handler, and why.

    ``envelope`` is ``None`` when the message was too malformed to rebuild one; ``raw`` then
    holds what was received (for ``dlq show``), never executed or imported.
    """

    id: str
    transport: str
    handler_id: str
    reason: str
    error_class: str
    deliveries: int
    dead_at: str
    envelope: Envelope | None
    raw: dict[str, str]


@runtime_checkable
class DeadLetterStore(Protocol):
    """Where one transport keeps its dead letters.

    ``replay`` MUST put the original event back for that one handler only (other handlers of
    the event are not affected) and then remove the dead letter; it raises ``KeyError`` for
    an unknown id and ``ValueError`` for a dead letter that has no envelope to replay.
    """

    transport: str

    def list(self, limit: int = 100) -> Sequence[DeadLetter]:
        """The oldest ``limit`` dead letters."""
        ...

    def get(self, dead_letter_id: str) -> DeadLetter:
        """One dead letter; ``KeyError`` if unknown."""
        ...

    def replay(self, dead_letter_id: str) -> None:
        """Deliver the event again to its handler, then drop the dead letter."""
        ...

    def purge(self, dead_letter_id: str | None = None) -> int:
        """Delete one dead letter (or all when ``None``); return how many were deleted."""
        ...
