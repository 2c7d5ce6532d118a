"""Redis Streams transport vs raw redis-py, in one run, with the same envelope.

1. publish: ``transport.publish(envelope, subs)`` vs raw ``client.xadd(stream, fields)`` of
   the same envelope's fields (one command per event each). Bar: >= 0.9x.
2. drain: one worker (burst, one no-op handler, batch 100) draining a pre-filled stream vs a
   raw ``XREADGROUP COUNT 100`` loop with ``XACK`` pipelined into the next read. The worker is
   measured as embedded (``bus.deliver`` only) and as ``flask events worker`` runs it (inside
   the app through a ``WorkerScope``: an app context per batch, a fresh ``g`` and database
   session per delivery). Bar: >= 0.4x.
3. latency: publish -> handler start at a steady 1,000 events/s with a worker running in a
   background thread (blocking reads); p50 and p99.

Rounds are interleaved and figures are medians. Keys live under a dedicated prefix that is
deleted at the end. Run: ``python -m bench.streams [--url URL] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from typing import Any

import redis
from flask import Flask

from app.core.events import EventBus, EventType, Router
from app.core.events.envelope import Envelope, new_event_id
from app.db import db
from app.log import configure_logging
from app.worker_scope import WorkerScope
from bench.timing import markdown_table
from transports.redis_streams import (
    RedisStreamsTransport,
    StreamKeys,
    StreamsSettings,
    StreamsWorker,
    select_subscriptions,
)

TRANSPORT = "redis-streams"
HANDLER = "bench.noop"
PAYLOAD = {
    "patient_id": "7278cd76-da89-40b5-be09-5be2e0806357",
    "clinic_id": "db08f64c-e389-4f1a-9e94-0d12a5b868b2",
}


def make_bus(client: Any, settings: StreamsSettings, handler: Any) -> EventBus:
    """A bus whose one handler is routed to a Redis Streams transport over ``client``."""
    bus = EventBus()
    transport = RedisStreamsTransport(client, settings)
    bus.configure(
        router=Router(TRANSPORT, {}, {"inprocess", TRANSPORT}), transports={TRANSPORT: transport}
    )
    bus.subscribe(EventType.PATIENT_CREATED, handler, handler_id=HANDLER)
    transport.prepare(bus.subscriptions())
    return bus


def bench_publish(
    client: Any, bus: EventBus, stream: str, count: int, rounds: int
) -> dict[str, float]:
    envelope = Envelope(
        id=new_event_id(), type=EventType.PATIENT_CREATED, payload=PAYLOAD, correlation_id="c" * 32
    )
    transport = bus.transports[TRANSPORT]
    subs = bus.subscriptions()
    fields = envelope.to_fields()

    def raw() -> None:
        for _ in range(count):
            client.xadd(stream, fields)

    def ours() -> None:
        for _ in range(count):
            transport.publish(envelope, subs)

    return _interleaved({"raw redis-py XADD": raw, "transport.publish": ours}, count, rounds)


def bench_drain(
    client: Any, bus: EventBus, settings: StreamsSettings, stream: str, count: int, rounds: int
) -> dict[str, float]:
    envelope = Envelope(
        id=new_event_id(), type=EventType.PATIENT_CREATED, payload=PAYLOAD, correlation_id="c" * 32
    )
    client.delete(stream)
    fields = envelope.to_fields()
    for start in range(0, count, 1000):
        pipe = client.pipeline(transaction=False)
        for _ in range(min(1000, count - start)):
            pipe.xadd(stream, fields)
        pipe.execute()
    flask_app = Flask("bench")
    flask_app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(flask_app)

    def reset() -> None:
        client.xgroup_destroy(stream, HANDLER)
        client.xgroup_create(stream, HANDLER, id="0")

    def raw() -> None:
        reset()
        acks: list[bytes] = []
        while True:
            pipe = client.pipeline(transaction=False)
            if acks:
                pipe.xack(stream, HANDLER, *acks)
            pipe.xreadgroup(HANDLER, "raw", {stream: ">"}, count=100)
            reply = pipe.execute()[-1]
            if not reply:
                return
            acks = [entry_id for entry_id, _ in reply[0][1]]

    scope = WorkerScope(flask_app)

    def worker(in_app: bool) -> None:
        reset()
        subs = select_subscriptions(bus.subscriptions())
        StreamsWorker(
            bus,
            settings,
            subs,
            consumer_name="bench",
            client=client,
            context=scope.batch if in_app else None,
            after_delivery=scope.after_delivery if in_app else None,
        ).run(burst=True)

    return _interleaved(
        {
            "raw XREADGROUP+XACK": raw,
            "worker, embedded": lambda: worker(False),
            "worker, in the app (as the CLI runs it)": lambda: worker(True),
        },
        count,
        rounds,
    )


def bench_latency(client: Any, settings: StreamsSettings, seconds: float, rate: int) -> list[float]:
    latencies: list[float] = []
    bus = make_bus(
        client,
        settings,
        lambda payload: latencies.append((time.perf_counter_ns() - payload["t"]) / 1000),
    )
    worker = StreamsWorker(
        bus, settings, select_subscriptions(bus.subscriptions()), consumer_name="latency",
        client=client,
    )  # fmt: skip
    worker.start()
    total = int(seconds * rate)
    started = time.perf_counter()
    for n in range(total):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        bus.publish(EventType.PATIENT_CREATED, {**PAYLOAD, "t": time.perf_counter_ns()})
    deadline = time.monotonic() + 60
    while len(latencies) < total and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    worker.join(30)
    return sorted(latencies)


def _interleaved(variants: dict[str, Any], count: int, rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(rounds):
        names = list(variants)
        names = names[round_number % len(names) :] + names[: round_number % len(names)]
        for name in names:
            started = time.perf_counter()
            variants[name]()
            samples[name].append(count / (time.perf_counter() - started))
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--publish-count", type=int, default=5000)
    parser.add_argument("--drain-count", type=int, default=50_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    configure_logging("WARNING", "console")
    prefix = f"bench-eventbus-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(args.url)
    settings = StreamsSettings(args.url, StreamKeys(prefix), batch_size=100, block_ms=1000)
    stream = settings.keys.stream(EventType.PATIENT_CREATED)
    try:
        bus = make_bus(client, settings, lambda payload: None)
        publish = bench_publish(client, bus, stream, args.publish_count, args.rounds)
        drain = bench_drain(
            client, bus, settings, stream, args.drain_count, max(3, args.rounds // 2)
        )
        client.delete(stream)
        latencies = bench_latency(client, settings, seconds=5, rate=1000)
    finally:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        client.close()
    p50 = statistics.quantiles(latencies, n=100)[49]
    p99 = statistics.quantiles(latencies, n=100)[98]
    if args.json:
        print(
            json.dumps({"publish": publish, "drain": drain, "latency_us": {"p50": p50, "p99": p99}})
        )
        return 0
    raw_pub, raw_drain = publish["raw redis-py XADD"], drain["raw XREADGROUP+XACK"]
    rows = [[name, f"{rate:,.0f}", f"{rate / raw_pub:.2f}"] for name, rate in publish.items()]
    rows += [[name, f"{rate:,.0f}", f"{rate / raw_drain:.2f}"] for name, rate in drain.items()]
    print(markdown_table(["variant (events/s, median)", "events/s", "x baseline"], rows))
    print(f"\nlatency publish -> handler at 1,000 events/s ({len(latencies)} events): "
          f"p50 {p50:,.0f} µs, p99 {p99:,.0f} µs")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
