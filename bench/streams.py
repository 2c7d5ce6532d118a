"""Redis Streams transport vs raw redis-py, in one run, interleaved, on a private Redis.

Starts its own ``redis-server`` on a free loopback port in a temporary directory (never the
shared one; stopped by its pid at the end) and prints the load average before and after.
Every figure is a median over interleaved rounds (each round runs every variant once, in a
rotated order) with a no-op handler, and is also given as a multiple of the redis-py floor
of the same run:

1. publish, one round trip per event: ``bus.publish`` (validation on, the declared-payload
   check, as the app configures it) and ``transport.publish`` vs raw ``client.xadd`` of the
   same fields. Bar: >= 0.9x.
2. publish, 100 per round trip: ``bus.send_remote_batch`` (the outbox relay's path: one
   ``MULTI``) vs a raw redis-py ``MULTI`` pipeline of the same 100 ``XADD``. Bar: >= 0.9x.
3. drain (:mod:`bench.streams_drain`): ``flask events worker --burst`` as users run it (on a
   stream of its own, ``CLI_SCALE`` times as long, its time per event compared), and the
   worker embedded, vs ``XREADGROUP COUNT 100`` + pipelined ``XACK`` + ``json.loads``.
   Bar: >= 0.8x. FastStream's batch consumer is the peer row (:mod:`bench.streams_faststream`,
   the ``bench`` extra; skipped with a line saying so when it is not installed).
4. latency: publish -> handler start at a steady 1,000 events/s, worker in a thread.
5. CPU per event without I/O (:mod:`bench.streams_cpu`, a stub client): the worker's
   per-event path and ``bus.publish``, in µs (lowest of 3 runs) and, with valgrind, in
   instructions (callgrind: independent of the load); with ``--before REF`` also in a
   worktree of ``REF``.

The tables are printed as the README's rows (:mod:`bench.streams_report`), ready to paste.
Run: ``python -m bench.streams [--rounds 5] [--before REF] [--no-instructions]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from app.core.events import EventBus, EventType, Router
from app.core.events.envelope import Envelope, new_event_id
from app.core.events.payloads import check_declared_payload
from app.log import configure_logging
from bench import streams_faststream
from bench.streams_cpu import cpu_figures
from bench.streams_drain import DRAIN_FLOOR, cli_drain, drain_variants
from bench.streams_probe import PAYLOAD
from bench.streams_report import Section, cpu_table, throughput_table
from tests.support.redis_server import start_redis_server
from transports.redis_streams import (
    RedisStreamsTransport,
    StreamKeys,
    StreamsSettings,
    StreamsWorker,
    select_subscriptions,
)

TRANSPORT = "redis-streams"
HANDLER = "bench.noop"
BATCH = 100
PUBLISH_FLOOR = "publish: raw redis-py `xadd`, 1 round trip per event"
PUBLISH_TRANSPORT = "publish: `transport.publish`"
PUBLISH_BUS = "publish: `bus.publish` → Streams (validation on, as the app)"
BATCH_FLOOR = "batch: raw redis-py `MULTI` pipeline of 100 `XADD`"
BATCH_OURS = "batch: `bus.send_remote_batch` of 100 (the outbox relay's path)"
CLI_DRAIN = "drain: `flask events worker --burst` (a subprocess, its start-up subtracted)"
CLI_SCALE = 5
PEER_DRAIN = "drain: FastStream {version} batch consumer, 100 per read (peer, `bench` extra)"
ROOT = Path(__file__).resolve().parent.parent
Variant = Callable[[], float | None]
"""Runs once; returns its own elapsed seconds, or ``None`` to be timed from outside."""


def make_bus(client: Any, settings: StreamsSettings, handler: Any) -> EventBus:
    """A bus configured as the app does, its one handler routed to Redis Streams."""
    bus = EventBus()
    transport = RedisStreamsTransport(client, settings)
    bus.configure(
        router=Router(TRANSPORT, {}, {"inprocess", TRANSPORT}),
        transports={TRANSPORT: transport},
        validate=True,
        schema_check=check_declared_payload,
    )
    bus.subscribe(EventType.PATIENT_CREATED, handler, handler_id=HANDLER)
    transport.prepare(bus.subscriptions())
    return bus


def _envelope() -> Envelope:
    event_id = new_event_id()
    return Envelope(
        id=event_id, type=EventType.PATIENT_CREATED, payload=PAYLOAD, correlation_id=event_id
    )


def publish_variants(client: Any, bus: EventBus, stream: str, count: int) -> dict[str, Variant]:
    """One round trip per event: raw ``xadd``, ``transport.publish``, ``bus.publish``."""
    envelope = _envelope()
    transport = bus.transports[TRANSPORT]
    subs = bus.subscriptions()
    fields = envelope.to_fields()

    def raw() -> None:
        for _ in range(count):
            client.xadd(stream, fields)

    def transport_publish() -> None:
        for _ in range(count):
            transport.publish(envelope, subs)

    def bus_publish() -> None:
        for _ in range(count):
            bus.publish(EventType.PATIENT_CREATED, PAYLOAD)

    return {
        PUBLISH_FLOOR: raw,
        PUBLISH_TRANSPORT: transport_publish,
        PUBLISH_BUS: bus_publish,
    }


def batch_variants(client: Any, bus: EventBus, stream: str, count: int) -> dict[str, Variant]:
    """100 per round trip: a raw ``MULTI`` pipeline vs ``bus.send_remote_batch``."""
    envelopes = [_envelope() for _ in range(BATCH)]
    all_fields = [envelope.to_fields() for envelope in envelopes]

    def raw() -> None:
        for _ in range(count // BATCH):
            pipe = client.pipeline(transaction=True)
            for fields in all_fields:
                pipe.xadd(stream, fields)
            pipe.execute()

    def ours() -> None:
        for _ in range(count // BATCH):
            bus.send_remote_batch(envelopes)

    return {BATCH_FLOOR: raw, BATCH_OURS: ours}


def fill(client: Any, stream: str, count: int) -> None:
    """Put ``count`` entries of one envelope on ``stream``."""
    client.delete(stream)
    fields = _envelope().to_fields()
    for start in range(0, count, 1000):
        pipe = client.pipeline(transaction=False)
        for _ in range(min(1000, count - start)):
            pipe.xadd(stream, fields)
        pipe.execute()


def bench_latency(client: Any, settings: StreamsSettings, seconds: float, rate: int) -> list[float]:
    """Microseconds from ``bus.publish`` to the handler's start, at ``rate`` events/s."""
    latencies: list[float] = []
    bus = make_bus(
        client,
        settings,
        lambda payload: latencies.append((time.perf_counter_ns() - payload["t"]) / 1000),
    )
    bus.configure(validate=False)  # the payload carries its send time in "t"
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


def interleaved(variants: dict[str, Variant], count: int, rounds: int) -> dict[str, float]:
    """Median events/s of each variant over ``rounds`` rotated rounds."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for variant in variants.values():
        variant()  # warm-up: connections, caches, the page cache of the CLI's imports
    for round_number in range(rounds):
        names = list(variants)
        names = names[round_number % len(names) :] + names[: round_number % len(names)]
        for name in names:
            started = time.perf_counter()
            elapsed = variants[name]()
            samples[name].append(count / (elapsed or time.perf_counter() - started))
    return {name: statistics.median(values) for name, values in samples.items()}


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--publish-count", type=int, default=5000)
    parser.add_argument("--drain-count", type=int, default=20_000)
    parser.add_argument("--before", default=None, help="git ref to measure CPU per event on")
    parser.add_argument(
        "--no-instructions",
        dest="instructions",
        action="store_false",
        help="skip the callgrind instruction counts (minutes under valgrind)",
    )
    args = parser.parse_args(argv)
    configure_logging("ERROR", "console")  # not the private server's no-appendonly warning
    print(f"load average at start (1, 5, 15 min): {_load()}")
    server = start_redis_server()
    prefix = f"bench-eventbus-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(server.url)
    settings = StreamsSettings(server.url, StreamKeys(prefix), batch_size=100, block_ms=1000)
    stream = settings.keys.stream(EventType.PATIENT_CREATED)
    peer_stream = f"{prefix}:faststream"
    try:
        bus = make_bus(client, settings, lambda payload: None)
        publish = interleaved(
            publish_variants(client, bus, stream, args.publish_count),
            args.publish_count,
            args.rounds,
        )
        batch = interleaved(
            batch_variants(client, bus, stream, args.publish_count * 4),
            args.publish_count * 4,
            args.rounds,
        )
        fill(client, stream, args.drain_count)
        drains: dict[str, Variant] = dict(drain_variants(client, bus, settings, stream))
        # The command drains CLI_SCALE times as many events on a stream of its own (its own
        # prefix), so its two-second start-up is not most of what is timed; its seconds are
        # divided by CLI_SCALE to compare per event with the other rows.
        cli_prefix = f"{prefix}-cli"
        cli_stream = StreamKeys(cli_prefix).stream(EventType.PATIENT_CREATED)
        fill(client, cli_stream, args.drain_count * CLI_SCALE)
        drains[CLI_DRAIN] = lambda: (
            cli_drain(client, server.url, cli_prefix, cli_stream) / CLI_SCALE
        )
        peer = streams_faststream.available()
        if peer:
            streams_faststream.fill(server.url, peer_stream, PAYLOAD, args.drain_count)
            drains[PEER_DRAIN.format(version=streams_faststream.version())] = lambda: (
                args.drain_count
                / (streams_faststream.drain_rate(server.url, peer_stream, args.drain_count))
            )
        drain = interleaved(drains, args.drain_count, args.rounds)
        client.delete(stream)
        latencies = bench_latency(client, settings, seconds=5, rate=1000)
    finally:
        client.close()
        server.stop()
    p50 = statistics.quantiles(latencies, n=100)[49]
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(f"load average at the end of the Redis rounds (1, 5, 15 min): {_load()}\n")
    sections = [
        Section(publish, PUBLISH_FLOOR, 0.9, (PUBLISH_TRANSPORT, PUBLISH_BUS)),
        Section(batch, BATCH_FLOOR, 0.9, (BATCH_OURS,)),
        Section(drain, DRAIN_FLOOR, 0.8, (CLI_DRAIN,)),
    ]
    print(throughput_table(sections))
    if not peer:
        print("\nFastStream row skipped: FastStream is not installed (pip install -e '.[bench]').")
    print(f"\nlatency publish -> handler at 1,000 events/s ({len(latencies)} events): "
          f"p50 {p50:,.0f} µs, p99 {p99:,.0f} µs", flush=True)  # fmt: skip
    # printed first: the CPU runs (minutes under valgrind) cannot lose the Redis rounds
    cpu, before = cpu_figures(args.before, instructions=args.instructions)
    print()
    print(cpu_table(cpu, before, args.before))
    if not any("instructions" in figures for figures in cpu.values()):
        print("\nInstruction counts skipped: valgrind is not installed (or --no-instructions).")
    print(f"\nload average at end (1, 5, 15 min): {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
