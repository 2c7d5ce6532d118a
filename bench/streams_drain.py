"""The drain rows of ``bench.streams``: a pre-filled stream emptied by each consumer in turn.

Every variant starts from the same stream (its group destroyed and created again at ``0``)
and reads it to the end:

- ``raw XREADGROUP+XACK+json.loads``: the redis-py floor, ``XREADGROUP COUNT 100`` with the
  previous batch's ``XACK`` pipelined into the same round trip, ``json.loads`` of each
  payload (what any consumer must at least do);
- ``flask events worker --burst``: the command as users run it, a subprocess on
  :mod:`bench.streams_app` (the real app, one no-op handler). Its start-up (interpreter,
  imports, ``create_app``) is measured in the same round by two burst runs on an empty
  group, and the quicker is subtracted, so the figure is the drain itself;
- ``worker, embedded`` and ``worker, in the app``: a ``StreamsWorker`` in this process, bare
  (``bus.deliver`` only) and inside a ``WorkerScope`` as the command runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from app.core.events import EventBus
from app.db import db
from app.worker_scope import WorkerScope
from transports.redis_streams import StreamsSettings, StreamsWorker, select_subscriptions

__all__ = ["APP_DRAIN", "DRAIN_FLOOR", "EMBEDDED_DRAIN", "cli_drain", "drain_variants"]

ROOT = Path(__file__).resolve().parent.parent
HANDLER = "bench.noop"
DRAIN_FLOOR = "drain: `XREADGROUP COUNT 100` + pipelined `XACK` + `json.loads`"
EMBEDDED_DRAIN = "drain: the worker embedded (`bus.deliver` only)"
APP_DRAIN = "drain: the worker in the app (`WorkerScope`), in this process"


def _reset(client: Any, stream: str, start: str = "0") -> None:
    client.xgroup_destroy(stream, HANDLER)
    client.xgroup_create(stream, HANDLER, id=start)


def raw_drain(client: Any, stream: str) -> None:
    """The floor: read 100 at a time, ack in the next read's round trip, decode payloads."""
    _reset(client, stream)
    acks: list[bytes] = []
    loads = json.loads
    while True:
        pipe = client.pipeline(transaction=False)
        if acks:
            pipe.xack(stream, HANDLER, *acks)
        pipe.xreadgroup(HANDLER, "raw", {stream: ">"}, count=100)
        reply = pipe.execute()[-1]
        if not reply:
            return
        acks = []
        for entry_id, fields in reply[0][1]:
            loads(fields[b"payload"])
            acks.append(entry_id)


def cli_drain(client: Any, url: str, prefix: str, stream: str) -> float:
    """Seconds ``flask events worker --burst`` takes to drain ``stream``, start-up excluded."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FLASK_EVENTBUS_REDIS_URL": url,
        "FLASK_EVENTBUS_KEY_PREFIX": prefix,
        "FLASK_EVENTBUS_TRANSPORT": "redis-streams",
        "FLASK_ENABLED_MODULES": "[]",
        "FLASK_LOG_LEVEL": "WARNING",
        "DATABASE_URL": "sqlite://",
    }
    command = [
        sys.executable, "-m", "flask", "--app", "bench.streams_app:create_app",
        "events", "worker", "--burst", "--consumer-name", "bench-cli",
    ]  # fmt: skip

    def timed() -> float:
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - started

    _reset(client, stream, start="$")  # nothing to read: the start-up alone, the quicker
    start_up = min(timed(), timed())  # of two (a slow one would inflate the drain's rate)
    _reset(client, stream)
    return max(1e-6, timed() - start_up)


def drain_variants(
    client: Any, bus: EventBus, settings: StreamsSettings, stream: str
) -> dict[str, Callable[[], None]]:
    """The in-process drain variants (each drains ``stream`` from its start once)."""
    flask_app = Flask("bench")
    flask_app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(flask_app)
    scope = WorkerScope(flask_app)

    def worker(in_app: bool) -> None:
        _reset(client, stream)
        StreamsWorker(
            bus,
            settings,
            select_subscriptions(bus.subscriptions()),
            consumer_name="bench",
            client=client,
            context=scope.batch if in_app else None,
            after_delivery=scope.after_delivery if in_app else None,
        ).run(burst=True)

    return {
        DRAIN_FLOOR: lambda: raw_drain(client, stream),
        EMBEDDED_DRAIN: lambda: worker(False),
        APP_DRAIN: lambda: worker(True),
    }
