"""The default configuration's publish cost, measured in whichever checkout is importable.

Run as a script by :mod:`bench.publish_cost`, once in this checkout and once in a baseline
checkout (``PYTHONPATH`` pointing at it), so both figures come from the same measurement in
the same run. It uses only the API both sides have: an ``EventBus`` configured as the app
configures it (validation on, the declared-payload check of ``patient.created``), N no-op
handlers, and the payload the clinic publishes. Prints JSON: ns per call by variant.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from app.core.events import EventBus, EventType, Router
from app.log import configure_logging
from bench.timing import interleaved_medians

try:
    from app.core.events.payloads import check_declared_payload
except ImportError:  # a checkout from before the pydantic switch
    from app.core.events.schemas import (  # type: ignore[import-not-found,no-redef]
        check_declared_payload,
    )

PAYLOAD = {
    "patient_id": "7278cd76da8940b5be095be2e0806357",
    "clinic_id": "main",
    "full_name": "Ada Lovelace",
    "email": "ada@example.org",
    "phone": None,
}


def measure(rounds: int, sample_ms: float) -> dict[str, float]:
    """ns per ``publish`` (1 and 2 handlers) and per event queued with
    ``publish_after_commit`` and sent after the commit (the bus's part of it)."""
    configure_logging("INFO", "json")
    results: dict[str, float] = {}
    variants: dict[str, Any] = {}
    for count in (1, 2):
        bus = EventBus()
        bus.configure(
            router=Router("inprocess", {}, {"inprocess"}),
            validate=True,
            schema_check=check_declared_payload,
        )
        for index in range(count):
            bus.subscribe(EventType.PATIENT_CREATED, _noop, handler_id=f"bench.h{index}")

        def publish(k: int, bus: EventBus = bus) -> None:
            for _ in range(k):
                bus.publish(EventType.PATIENT_CREATED, PAYLOAD)

        def after_commit(k: int, bus: EventBus = bus) -> None:
            for _ in range(k):  # publish_after_commit: check (and prepare) before, send after
                prepared = bus.prepare(EventType.PATIENT_CREATED, PAYLOAD, producer="bench")
                bus.publish_envelope(prepared)

        def after_commit_before(k: int, bus: EventBus = bus) -> None:
            for _ in range(k):  # before the prepared envelope: checked, then published
                bus.validate_event(EventType.PATIENT_CREATED, PAYLOAD)
                bus.publish(EventType.PATIENT_CREATED, PAYLOAD)

        variants[f"publish, N={count}"] = publish
        variants[f"publish_after_commit's bus work, N={count}"] = (
            after_commit if hasattr(bus, "prepare") else after_commit_before
        )
    results.update(interleaved_medians(variants, rounds, sample_ms))
    return results


def _noop(payload: Any) -> None:
    pass


if __name__ == "__main__":
    rounds, sample_ms = int(sys.argv[1]), float(sys.argv[2])
    print(json.dumps(measure(rounds, sample_ms)))
