"""The outbox's cost and the relay's rate, in one run, against a real Redis.

1. Request throughput of the clinic's ``POST /patients`` (the whole app: validation,
   SQLite, after-commit publishing), every handler routed to Redis Streams, with the outbox
   off (the event is XADDed after the commit) vs on (the envelope is written to the outbox
   table in the request's transaction; the relay is not running).
2. The relay's rate moving pre-filled outbox rows to Redis (claim, pipelined ``XADD`` batch,
   mark sent) vs direct batched publishing of as many envelopes with
   ``transport.publish_batch`` in batches of the same size. Bar: relay ≥ 0.7× direct. On
   SQLite (the default database: watermark scheme) and, when the server answers, on
   PostgreSQL (row locks held across the send).

Rounds are interleaved; figures are medians. Keys live under a fresh prefix, deleted at the
end; databases are temporary SQLite files and a temporary PostgreSQL database (dropped).
Run: ``python -m bench.outbox [--rounds 5] [--no-postgres]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import redis
from flask import Flask
from sqlalchemy.orm import Session

from app import create_app, migrations
from app.core.events import EventType, event_bus
from app.core.events.envelope import Envelope, new_event_id
from app.core.outbox import EXTENSION, OutboxRelay, OutboxStore
from app.db import db
from bench.timing import markdown_table
from tests.support.postgres import postgres_database

PATIENT = {"full_name": "Ada Lovelace", "email": "ada@example.org", "date_of_birth": "1815-12-10"}


def make_app(url: str, prefix: str, database: Path | str, outbox: bool) -> Flask:
    """The clinic on ``database`` (a SQLite file, or a URL), handlers on Redis Streams;
    the schema brought to head first, as a deployment does (``flask db upgrade``)."""
    config = {
        "DATABASE_URL": database if isinstance(database, str) else f"sqlite:///{database}",
        "EVENTBUS_TRANSPORT": "redis-streams",
        "EVENTBUS_REDIS_URL": url,
        "EVENTBUS_KEY_PREFIX": prefix,
        "EVENTBUS_OUTBOX": outbox,
        "EVENTBUS_OUTBOX_RELAY": "none",
        "LOG_LEVEL": "WARNING",
    }
    migrations.upgrade(create_app({**config, "DATABASE_SCHEMA_CHECK": False}))
    return create_app(config)


def requests_per_second(app: Flask, count: int) -> float:
    client = app.test_client()
    started = time.perf_counter()
    for _ in range(count):
        response = client.post("/patients", json=PATIENT)
        assert response.status_code == 201, response.get_json()
    return count / (time.perf_counter() - started)


def bench_requests(
    url: str, prefix: str, directory: Path, count: int, rounds: int
) -> dict[str, float]:
    apps = {
        "POST /patients, outbox off": make_app(url, f"{prefix}:off", directory / "off.db", False),
        "POST /patients, outbox on": make_app(url, f"{prefix}:on", directory / "on.db", True),
    }
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(rounds):
        for name, app in apps.items():
            samples[name].append(requests_per_second(app, count))
    return {name: statistics.median(values) for name, values in samples.items()}


def envelopes(count: int) -> list[Envelope]:
    return [
        Envelope(
            id=new_event_id(),
            type=EventType.PATIENT_CREATED,
            payload={"patient_id": uuid.uuid4().hex, "clinic_id": "c1", "full_name": "Ada"},
            correlation_id=new_event_id(),
            producer="patients",
        )
        for _ in range(count)
    ]


RELAY = "relay (claim, XADD batch, mark)"
DIRECT = "direct publish_batch"


def bench_relay(app: Flask, count: int, rounds: int) -> dict[str, float]:
    relay: OutboxRelay = app.extensions[EXTENSION]
    batch = relay.settings.batch_size
    transport = app.extensions["eventbus"].transports["redis-streams"]
    samples: dict[str, list[float]] = {RELAY: [], DIRECT: []}
    for _ in range(rounds):
        items = envelopes(count)
        with Session(relay.store.engine) as session:
            for envelope in items:
                OutboxStore.add(session, envelope)
            session.commit()
        started = time.perf_counter()
        sent = relay.drain()
        samples[RELAY].append(sent / (time.perf_counter() - started))
        assert sent == count
        direct = envelopes(count)
        subs = event_bus.subscriptions_for(EventType.PATIENT_CREATED)
        remote = tuple(sub for sub in subs if sub.transport == "redis-streams")
        started = time.perf_counter()
        for start in range(0, count, batch):
            transport.publish_batch(
                [(envelope, remote) for envelope in direct[start : start + batch]]
            )
        samples[DIRECT].append(count / (time.perf_counter() - started))
    relay.store.close()
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    prefix = f"bench-outbox-{uuid.uuid4().hex[:8]}"
    client: Any = redis.Redis.from_url(args.url)
    relays: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            requests = bench_requests(args.url, prefix, directory, args.requests, args.rounds)
            relay_app = make_app(args.url, f"{prefix}:relay", directory / "relay.db", True)
            relays["SQLite"] = bench_relay(relay_app, args.events, args.rounds)
            event_bus.remove_owned("loader")
            if not args.no_postgres:
                relays.update(bench_postgres_relay(args.url, f"{prefix}:pg", args))
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        event_bus.remove_owned("loader")
    off = requests["POST /patients, outbox off"]
    rows = [[name, f"{rate:,.0f}", f"{rate / off:.2f}"] for name, rate in requests.items()]
    for database, rates in relays.items():
        for name in (DIRECT, RELAY):
            ratio = rates[name] / rates[DIRECT]
            rows.append([f"{name}, {database}", f"{rates[name]:,.0f}", f"{ratio:.2f}"])
    print(markdown_table(["variant", "per second", "× baseline"], rows))
    print()
    for database, rates in relays.items():
        ratio = rates[RELAY] / rates[DIRECT]
        verdict = "pass" if ratio >= 0.7 else "FAIL"
        print(f"- {database}: relay {ratio:.2f}× direct batched publish (bar ≥ 0.70: {verdict})")
    print(f"- requests with the outbox on: {requests['POST /patients, outbox on'] / off:.2f}× off")


def bench_postgres_relay(url: str, prefix: str, args: argparse.Namespace) -> dict[str, Any]:
    """``{"PostgreSQL": rates}``, or nothing (said on stderr) when PostgreSQL does not answer."""
    with ExitStack() as stack:
        try:
            address = stack.enter_context(postgres_database())
        except RuntimeError as exc:
            print(f"PostgreSQL relay skipped: {exc}", file=sys.stderr)
            return {}
        app = make_app(url, prefix, address, True)
        rates = bench_relay(app, args.events, args.rounds)
        dispose_engine(app)
        event_bus.remove_owned("loader")
    return {"PostgreSQL": rates}


def dispose_engine(app: Flask) -> None:
    """Close the app's database connections (so its temporary database can be dropped)."""
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
