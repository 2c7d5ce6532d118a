"""The dashboard's memory of this process: one tail row per event, calls per minute."""

from __future__ import annotations

from app.core.events.envelope import Envelope
from app.core.events.instrumentation import Kind, Observation
from app.dashboard.activity import Activity


class Clock:
    now = 6_000.0

    def __call__(self) -> float:
        return self.now


def test_one_tail_row_per_event_with_every_transport() -> None:
    activity = Activity(tail_size=3)
    first = Envelope(
        "e1", "patient.created", {"email": "ada@example.org"}, "c1", producer="patients"
    )
    second = Envelope("e2", "notification.sent", {}, "c1", producer="notifications")
    for envelope, transport in ((first, "redis-streams"), (first, "inprocess"), (second, "rq")):
        activity.observe(Observation(Kind.PUBLISHED, envelope.type, transport, envelope=envelope))
    rows = activity.tail()
    assert [(r.event_id, r.transport) for r in rows] == [
        ("e2", "rq"),
        ("e1", "redis-streams, inprocess"),
    ]
    assert "ada@example.org" not in repr(rows)


def test_calls_per_minute_over_the_window() -> None:
    clock = Clock()
    activity = Activity(minutes=3, clock=clock)

    def call(kind: Kind) -> None:
        activity.observe(Observation(kind, "patient.created", "inprocess", "h.one", 0.001))

    call(Kind.HANDLED)
    clock.now += 60
    call(Kind.HANDLED)
    call(Kind.FAILED)
    clock.now += 120
    call(Kind.HANDLED)
    counts = activity.minute_counts("h.one")
    assert counts.handled == (1, 0, 1)  # the first minute has left the 3-minute window
    assert counts.failed == (1, 0, 0)
    assert activity.minute_counts("h.other").handled == (0, 0, 0)
