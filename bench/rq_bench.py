"""RQ transport cost: the bus vs raw RQ, enqueueing and processing the same jobs, in one run.

Enqueue (µs per job, for N = 1 and 3 handlers of one event, each a job):

- ``bus publish``: ``event_bus.publish`` with N handlers routed to RQ (validation, envelope,
  one atomic Lua round trip writing N unique jobs and their duplicate markers);
- ``raw enqueue_many``: ``Queue.enqueue_many`` of the same N jobs (same function name and JSON
  arguments, job ids, ``Retry``, TTLs) in one pipeline: RQ's fastest batch, without uniqueness;
- ``raw enqueue unique``: ``Queue.enqueue(..., job_id=..., unique=True)`` per job, RQ's own way
  to refuse a duplicate (one round trip per job).

Process (jobs/s, ``SimpleWorker`` in burst mode, no scheduler): the bus's
``BusSimpleWorker`` running bus jobs (dispatcher → registry → no-op handler) vs RQ's
``SimpleWorker`` running an equivalent no-op function taking the same JSON arguments.

Bars: bus ≤ 1.2× raw ``enqueue_many`` per job; bus processing ≥ 0.9× raw.
Rounds are interleaved (shuffled each round), figures are medians. Uses Redis at ``--url``
(default the machine's), keys under a private prefix only, deleted at the end.
The bars are checked on the median of the per-round ratios (bus and raw run back to back in
each round), which resists the bursts of load of a shared machine better than a ratio of
medians; the tables show the medians.
Run: ``python -m bench.rq_bench [--rounds 11] [--sample-ms 150] [--jobs 100]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import redis
from rq.job import Retry
from rq.queue import Queue
from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker

from app.core.events import EventBus, EventType, Router
from app.core.events.envelope import new_event_id, utc_timestamp
from app.log import configure_logging
from bench.timing import Runner, calibrate, markdown_table
from transports import rq_queue
from transports.rq_queue import BusSimpleWorker, RQSettings, RQTransport

PAYLOAD = {
    "patient_id": "7278cd76-da89-40b5-be09-5be2e0806357",
    "clinic_id": "db08f64c-e389-4f1a-9e94-0d12a5b868b2",
}
SIZES = (1, 3)
RAW_FUNCTION = f"{__name__}.raw_handler"


def raw_handler(handler_id: str, envelope: dict[str, Any]) -> None:
    """The raw-RQ equivalent of a bus job's work: a no-op taking the same arguments."""


def _noop(payload: dict[str, Any]) -> None:
    """A bus handler that does nothing."""


class Bench:
    """The clients, settings and buses of one run; every key carries ``prefix``."""

    def __init__(self, url: str) -> None:
        self.prefix = f"bench-rq-{os.getpid()}"
        self.client = redis.Redis.from_url(url)
        self.settings = RQSettings.from_config(
            {"EVENTBUS_REDIS_URL": url, "EVENTBUS_KEY_PREFIX": self.prefix}
        )
        self.retry = Retry(
            max=self.settings.max_deliveries - 1, interval=self.settings.retry_schedule()
        )

    def bus(self, handlers: int) -> EventBus:
        """A bus with ``handlers`` no-op handlers routed to RQ."""
        bus = EventBus()
        transport = RQTransport(self.settings, self.client)
        bus.configure(
            router=Router("rq", {}, {"inprocess", "rq"}),
            transports={"rq": transport},
            raise_handler_errors=False,
        )
        for index in range(handlers):
            bus.subscribe(EventType.PATIENT_CREATED, _noop, handler_id=f"bench.h{index}")
        return bus

    def raw_queue(self, name: str) -> Queue:
        return Queue(
            self.settings.full_queue_name(name), connection=self.client, serializer=JSONSerializer
        )

    def cleanup(self) -> None:
        for pattern in (f"{self.prefix}*", f"rq:*{self.prefix}*"):
            batch = list(self.client.scan_iter(match=pattern, count=1000))
            for start in range(0, len(batch), 500):
                self.client.delete(*batch[start : start + 500])
        for index in ("rq:queues", "rq:workers"):
            members = [m for m in self.client.smembers(index) if self.prefix.encode() in m]
            if members:
                self.client.srem(index, *members)


def envelope_dict() -> dict[str, Any]:
    """What a raw RQ user would pass: the same envelope fields the bus sends."""
    event_id = new_event_id()
    return {
        "id": event_id,
        "type": "patient.created",
        "version": 1,
        "occurred_at": utc_timestamp(),
        "producer": __name__,
        "correlation_id": event_id,
        "causation_id": None,
        "payload": PAYLOAD,
    }


def enqueue_variants(bench: Bench, handlers: int) -> dict[str, Runner]:
    """``run(k)`` = k events of ``handlers`` jobs each, per variant."""
    ids = [f"bench.h{index}" for index in range(handlers)]
    publish = bench.bus(handlers).publish
    many_queue, unique_queue = (
        bench.raw_queue(f"many{handlers}"),
        bench.raw_queue(f"uniq{handlers}"),
    )
    settings, retry = bench.settings, bench.retry

    def bus_publish(k: int) -> None:
        for _ in range(k):
            publish(EventType.PATIENT_CREATED, PAYLOAD)

    def raw_many(k: int) -> None:
        for _ in range(k):
            envelope = envelope_dict()
            many_queue.enqueue_many(
                [
                    Queue.prepare_data(
                        RAW_FUNCTION,
                        args=(handler_id, envelope),
                        job_id=settings.job_id(envelope["id"], handler_id),
                        result_ttl=settings.result_ttl,
                        timeout=settings.job_timeout,
                        retry=retry,
                    )
                    for handler_id in ids
                ]
            )

    def raw_unique(k: int) -> None:
        for _ in range(k):
            envelope = envelope_dict()
            for handler_id in ids:
                unique_queue.enqueue(
                    RAW_FUNCTION,
                    handler_id,
                    envelope,
                    job_id=settings.job_id(envelope["id"], handler_id),
                    unique=True,
                    result_ttl=settings.result_ttl,
                    job_timeout=settings.job_timeout,
                    retry=retry,
                )

    return {
        "bus publish": bus_publish,
        "raw enqueue_many": raw_many,
        "raw enqueue unique": raw_unique,
    }


def interleaved_samples(
    variants: dict[str, Runner], rounds: int, sample_ms: float, seed: int = 5
) -> dict[str, list[float]]:
    """ns per call of each variant in each round (shuffled order per round, GC off)."""
    counts = {name: calibrate(run, sample_ms) for name, run in variants.items()}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    order, rng = list(variants), random.Random(seed)
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            gc.disable()
            try:
                started = time.perf_counter_ns()
                variants[name](counts[name])
                elapsed = time.perf_counter_ns() - started
            finally:
                gc.enable()
            samples[name].append(elapsed / counts[name])
    return samples


def measure_enqueue(bench: Bench, rounds: int, sample_ms: float) -> dict[int, dict[str, float]]:
    """µs per job (medians over interleaved rounds) and the median per-round ratio, per N."""
    results = {}
    for handlers in SIZES:
        samples = interleaved_samples(enqueue_variants(bench, handlers), rounds, sample_ms)
        results[handlers] = {
            name: statistics.median(values) / handlers / 1000 for name, values in samples.items()
        }
        results[handlers]["paired ratio"] = statistics.median(
            bus / raw
            for bus, raw in zip(samples["bus publish"], samples["raw enqueue_many"], strict=True)
        )
        bench.cleanup()
    return results


def measure_processing(bench: Bench, rounds: int, jobs: int) -> dict[str, float]:
    """Jobs/s of a burst SimpleWorker draining ``jobs`` prefilled jobs, medians per variant."""
    bus = bench.bus(1)
    bus_queue = bench.settings.queue_names()[0]
    raw_queue = bench.raw_queue("raw-processing")

    def fill() -> None:
        for _ in range(jobs):
            bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
        envelopes = [envelope_dict() for _ in range(jobs)]
        raw_queue.enqueue_many(
            [
                Queue.prepare_data(
                    RAW_FUNCTION,
                    args=("bench.h0", envelope),
                    job_id=bench.settings.job_id(envelope["id"], "bench.h0"),
                    result_ttl=bench.settings.result_ttl,
                    retry=bench.retry,
                )
                for envelope in envelopes
            ]
        )

    workers: dict[str, Callable[[], Any]] = {
        "bus BusSimpleWorker": lambda: BusSimpleWorker(
            [bus_queue], connection=bench.client, name=f"{bench.prefix}-bus"
        ),
        "raw SimpleWorker": lambda: SimpleWorker(
            [raw_queue],
            connection=bench.client,
            serializer=JSONSerializer,
            name=f"{bench.prefix}-raw",
            log_job_description=False,
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in workers}
    order = list(workers)
    rng = random.Random(11)
    with rq_queue.installed(bus):
        for _ in range(rounds):
            fill()
            rng.shuffle(order)
            for name in order:
                worker = workers[name]()
                gc.disable()
                try:
                    started = time.perf_counter()
                    worker.work(burst=True, logging_level="WARNING")
                    elapsed = time.perf_counter() - started
                finally:
                    gc.enable()
                samples[name].append(jobs / elapsed)
            bench.cleanup()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    paired = [bus / raw for bus, raw in zip(*samples.values(), strict=True)]
    medians["paired ratio"] = statistics.median(paired)
    return medians


def report(enqueue: dict[int, dict[str, float]], processing: dict[str, float]) -> str:
    rows = []
    for name in [name for name in enqueue[SIZES[0]] if name != "paired ratio"]:
        row = [name]
        for handlers in SIZES:
            value, raw = enqueue[handlers][name], enqueue[handlers]["raw enqueue_many"]
            row += [f"{value:,.1f}", f"{value / raw:.2f}"]
        rows.append(row)
    header = ["enqueue"]
    for handlers in SIZES:
        header += [f"N={handlers} µs/job", "× enqueue_many"]
    lines = [markdown_table(header, rows), ""]
    raw_rate = processing["raw SimpleWorker"]
    rates = {name: rate for name, rate in processing.items() if name != "paired ratio"}
    lines.append(
        markdown_table(
            ["processing (SimpleWorker, burst)", "jobs/s", "× raw"],
            [[name, f"{rate:,.0f}", f"{rate / raw_rate:.2f}"] for name, rate in rates.items()],
        )
    )
    lines.append("")
    for handlers in SIZES:
        ratio = enqueue[handlers]["paired ratio"]
        verdict = "pass" if ratio <= 1.2 else "FAIL"
        lines.append(
            f"- N={handlers}: bus {ratio:.2f}× raw enqueue_many per job, median of per-round "
            f"ratios (bar ≤ 1.20: {verdict})"
        )
    ratio = processing["paired ratio"]
    lines.append(
        f"- processing: bus {ratio:.2f}× raw, median of per-round ratios "
        f"(bar ≥ 0.90: {'pass' if ratio >= 0.9 else 'FAIL'})"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--sample-ms", type=float, default=150.0)
    parser.add_argument("--jobs", type=int, default=100, help="jobs per processing sample")
    parser.add_argument("--processing-rounds", type=int, default=15)
    args = parser.parse_args(argv)
    configure_logging("WARNING", "json")
    bench = Bench(args.url)
    try:
        enqueue = measure_enqueue(bench, args.rounds, args.sample_ms)
        processing = measure_processing(bench, args.processing_rounds, args.jobs)
    finally:
        bench.cleanup()
    print(report(enqueue, processing))


if __name__ == "__main__":
    main()
