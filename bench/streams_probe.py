"""CPU per event of the Streams paths without I/O, in whichever checkout is importable.

Run as a script by :mod:`bench.streams` (once in this checkout and, with ``--before REF``,
once in a temporary worktree of ``REF``, ``PYTHONPATH`` pointing at it), so both figures
come from the same measurement in the same run. A stub client answers every Redis command
at once, so what is measured is the Python work only:

- ``bus.publish → Streams``: ``EventBus.publish`` of ``patient.created`` (validation on,
  the declared-payload check, as the app configures it) to one handler routed to Redis
  Streams: envelope, encoding, the transport's ``XADD`` arguments;
- ``worker per event``: ``EntryDelivery.handle`` of one stream entry (decode, admission
  checks, log context, current event, the no-op handler, ``WorkerScope.after_delivery``)
  inside one app context per batch, as ``flask events worker`` runs it.

Prints one JSON line: ns per event by variant. ``--profile NAME`` instead prints the top
functions by self time of that variant (cProfile); ``--run NAME K`` runs it ``K`` times and
prints nothing: :func:`bench.streams_cpu.instructions_per_event` counts its instructions
under ``valgrind --tool=callgrind`` (a figure that does not depend on the machine's load).
"""

from __future__ import annotations

import cProfile
import inspect
import json
import operator
import pstats
import sys
from typing import Any

from flask import Flask

from app.core.events import EventBus, EventType, Router
from app.core.events.payloads import check_declared_payload
from app.db import db
from app.log import configure_logging
from app.worker_scope import WorkerScope
from bench.timing import interleaved_medians
from transports.redis_streams import RedisStreamsTransport, StreamKeys, StreamsSettings
from transports.redis_streams.delivery import Entry, EntryDelivery

TRANSPORT = "redis-streams"
HANDLER = "bench.noop"
PAYLOAD = {
    "patient_id": "7278cd76da8940b5be095be2e0806357",
    "clinic_id": "main",
    "full_name": "Ada Lovelace",
    "email": "ada@example.org",
    "phone": None,
}


class StubClient:
    """Answers the commands the two paths send, at once, without a server."""

    def execute_command(self, *args: Any, **options: Any) -> bytes:
        return b"1-0"

    def xgroup_create(self, *args: Any, **options: Any) -> bool:
        return True

    def close(self) -> None:
        return None


def _noop(payload: dict[str, Any]) -> None:
    return None


def _variants() -> dict[str, Any]:
    settings = StreamsSettings("redis://stub", StreamKeys("bench"), batch_size=100)
    bus = EventBus()
    transport = RedisStreamsTransport(StubClient(), settings)  # type: ignore[arg-type]
    bus.configure(
        router=Router(TRANSPORT, {}, {"inprocess", TRANSPORT}),
        transports={TRANSPORT: transport},
        validate=True,
        schema_check=check_declared_payload,
    )
    bus.subscribe(EventType.PATIENT_CREATED, _noop, handler_id=HANDLER)
    transport.prepare(bus.subscriptions())
    bus.publish(EventType.PATIENT_CREATED, PAYLOAD)  # warm the per-type caches

    def publish(k: int) -> None:
        for _ in range(k):
            bus.publish(EventType.PATIENT_CREATED, PAYLOAD)

    flask_app = Flask("bench")
    flask_app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(flask_app)
    scope = WorkerScope(flask_app)
    delivery = EntryDelivery(
        bus, StubClient(), settings, HANDLER, "bench",  # type: ignore[arg-type]
        context=scope.batch, after_delivery=scope.after_delivery,
    )  # fmt: skip
    stream = settings.keys.stream(EventType.PATIENT_CREATED)
    fields = {
        b"id": b"7d3c1e0c9b0a4f7e8d6c5b4a39281706",
        b"type": str(EventType.PATIENT_CREATED).encode(),
        b"version": b"1",
        b"occurred_at": b"2026-12-01T09:00:00.000000Z",
        b"producer": b"patients",
        b"correlation_id": b"c" * 32,
        b"causation_id": b"",
        b"payload": json.dumps(PAYLOAD, separators=(",", ":")).encode(),
    }
    handle: Any = delivery.handle
    if "entry" in inspect.signature(handle).parameters:  # a baseline from before 4482d8c
        entry = Entry(stream, b"1-0", fields, 1)

        def worker(k: int) -> None:
            with delivery.batch():
                for _ in range(k):
                    handle(entry)

    else:

        def worker(k: int) -> None:
            with delivery.batch():
                for _ in range(k):
                    handle(stream, b"1-0", fields)

    return {"bus.publish → Streams": publish, "worker per event": worker}


def main(argv: list[str]) -> int:
    configure_logging("WARNING", "json")
    variants = _variants()
    if argv and argv[0] == "--run":
        # through operator.call, a C function nothing else here calls, so callgrind counts
        # exactly this (--collect-atstart=no --toggle-collect=_operator_call)
        operator.call(variants[argv[1]], int(argv[2]))
        return 0
    if argv and argv[0] == "--profile":
        profiler = cProfile.Profile()
        profiler.runcall(variants[argv[1]], 200_000)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(14)
        return 0
    rounds, sample_ms = (int(argv[0]), float(argv[1])) if argv else (15, 30.0)
    print(json.dumps(interleaved_medians(variants, rounds=rounds, sample_ms=sample_ms)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
