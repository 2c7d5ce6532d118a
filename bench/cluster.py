"""Redis Streams on a 3-master Redis Cluster vs one Redis, in one run, on this machine.

1. drain: ``EVENTS`` events over four event types (four slots on the cluster), published
   beforehand, drained by one burst worker with a no-op handler; events per second, and the
   cluster's figure as a ratio of one Redis's.
2. scale-out: the same with a handler that waits 1 ms (I/O-bound), drained by 1, 2 and 4
   worker processes at once (one consumer group, one consumer each); ratios to 1 process.
3. commands per event: Redis commands (``INFO commandstats``, summed over the masters) per
   event for publish + drain, cluster vs one node.

Both topologies are started here on loopback from the ``redis-server`` the tests use (one
fresh server, and a fresh 3-master cluster), stopped by pid at the end. Rounds interleave;
figures are medians. Run: ``python -m bench.cluster [--rounds 3] [--events 20000]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from app.core.events import EventBus, Router
from app.core.events.envelope import Envelope, new_event_id
from app.core.events.subscriptions import Subscription
from app.log import configure_logging
from bench.timing import markdown_table
from tests.support.redis_server import start_redis_server
from tests.support.redis_topologies import Node, start_cluster
from transports.redis_common import connect
from transports.redis_streams import (
    RedisStreamsTransport,
    StreamKeys,
    StreamsSettings,
    StreamsWorker,
)

TRANSPORT = "redis-streams"
HANDLER = "bench.handler"
TYPES = ("patient.created", "appointment.scheduled", "invoice.issued", "invoice.paid")
PAYLOAD = {"patient_id": "7278cd76-da89-40b5-be09-5be2e0806357", "n": 0}


def settings(url: str, prefix: str) -> StreamsSettings:
    tagged = url.startswith("redis+cluster")
    return StreamsSettings(
        redis_url=url, keys=StreamKeys(prefix, hash_tagged=tagged), block_ms=100, batch_size=100
    )


def make_bus(url: str, prefix: str, handler: Callable[[dict[str, Any]], None]) -> EventBus:
    bus = EventBus()
    transport = RedisStreamsTransport(connect(url, "publisher"), settings(url, prefix))
    bus.configure(
        router=Router(TRANSPORT, {}, {"inprocess", TRANSPORT}), transports={TRANSPORT: transport}
    )
    for name in TYPES:
        bus.subscribe(name, handler, handler_id=HANDLER)
    transport.prepare(bus.subscriptions())
    return bus


def fill(url: str, prefix: str, events: int) -> None:
    """Publish ``events`` events round-robin over ``TYPES``, 100 per pipeline."""
    client = connect(url, "publisher")
    keys = settings(url, prefix).keys
    for start in range(0, events, 100):
        pipe = client.pipeline(transaction=False)
        for n in range(start, min(events, start + 100)):
            name = TYPES[n % len(TYPES)]
            event_id = new_event_id()
            fields = Envelope(
                id=event_id, type=name, payload={**PAYLOAD, "n": n}, correlation_id=event_id
            ).to_fields()
            pipe.xadd(keys.stream(name), dict(fields))  # type: ignore[arg-type]
        pipe.execute()
    client.close()


def noop(payload: dict[str, Any]) -> None:
    """The no-op handler."""


def wait_1ms(payload: dict[str, Any]) -> None:
    """An I/O-bound handler: waits 1 ms."""
    time.sleep(0.001)


def _drain_process(url: str, prefix: str, name: str, slow: bool) -> None:
    configure_logging("ERROR", "json")
    bus = make_bus(url, prefix, wait_1ms if slow else noop)
    subs: Sequence[Subscription] = bus.subscriptions()
    worker = StreamsWorker(bus, settings(url, prefix), subs, consumer_name=name)
    try:
        worker.run(burst=True)
    finally:
        worker.close()


def drain(url: str, prefix: str, processes: int, slow: bool) -> float:
    """Seconds for ``processes`` burst workers to drain what is there."""
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    workers = [
        context.Process(target=_drain_process, args=(url, prefix, f"w{i}", slow))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(600)
        if worker.exitcode != 0:
            raise RuntimeError(f"a bench worker exited with {worker.exitcode}")
    return time.perf_counter() - started


def command_count(ports: Sequence[int]) -> int:
    total = 0
    for port in ports:
        with Node(port, None, None).client() as client:  # type: ignore[arg-type]
            stats = client.info("commandstats")
            total += sum(
                int(row["calls"]) for name, row in stats.items() if not name.endswith("info")
            )
    return total


def one_round(
    url: str, ports: Sequence[int], events: int, processes: int, slow: bool
) -> dict[str, float]:
    prefix = f"bench-cluster-{uuid.uuid4().hex[:8]}"
    make_bus(url, prefix, noop)  # the groups exist before the events
    before = command_count(ports)
    fill(url, prefix, events)
    seconds = drain(url, prefix, processes, slow)
    commands = command_count(ports) - before
    cleaner = connect(url, "admin")
    for key in list(cleaner.scan_iter(match=f"{prefix}*", count=1000)):
        cleaner.delete(key)
    cleaner.close()
    return {"per_s": events / seconds, "commands_per_event": commands / events}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--slow-events", type=int, default=2_000)
    args = parser.parse_args(argv)
    configure_logging("ERROR", "json")
    single = start_redis_server()
    cluster = start_cluster(masters=3)
    try:
        targets = {
            "one Redis": (single.url, [single.port]),
            "cluster (3 masters)": (cluster.url, [node.port for node in cluster.nodes]),
        }
        runs: dict[tuple[str, str], list[dict[str, float]]] = {}
        for _ in range(args.rounds):
            for name, (url, ports) in targets.items():
                runs.setdefault((name, "no-op x1"), []).append(
                    one_round(url, ports, args.events, 1, slow=False)
                )
                for processes in (1, 2, 4):
                    runs.setdefault((name, f"1 ms x{processes}"), []).append(
                        one_round(url, ports, args.slow_events, processes, slow=True)
                    )
        medians = {
            key: {metric: statistics.median(r[metric] for r in rounds) for metric in rounds[0]}
            for key, rounds in runs.items()
        }
        rows = []
        for name in targets:
            base = medians[(name, "1 ms x1")]["per_s"]
            for case in ("no-op x1", "1 ms x1", "1 ms x2", "1 ms x4"):
                figure = medians[(name, case)]
                versus_one = figure["per_s"] / medians[("one Redis", case)]["per_s"]
                scale = "" if case.startswith("no-op") else f"{figure['per_s'] / base:.2f}x"
                rows.append(
                    [
                        name,
                        case,
                        f"{figure['per_s']:,.0f}",
                        f"{versus_one:.2f}x",
                        scale,
                        f"{figure['commands_per_event']:.2f}",
                    ]
                )
        print(
            markdown_table(
                ["topology", "drain", "events/s", "vs one Redis", "vs 1 process", "commands/event"],
                rows,
            )
        )
        print(f"\n{args.events:,} no-op events, {args.slow_events:,} 1 ms events, "
              f"{len(TYPES)} event types, median of {args.rounds} rounds")  # fmt: skip
    finally:
        cluster.stop()
        single.stop()


if __name__ == "__main__":
    main()
