"""Worker subprocesses for the fault tests, and the counters their handlers leave in Redis.

Each worker is ``python -m flask --app wsgi events worker`` built by the real app factory,
with the sample modules of ``sample_modules`` and short timings. Processes are ended only by
their own pid; every test stops what it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.core.events.subscriptions import Subscription
from tests.transports.streams.harness import TRANSPORT, envelope, fast_settings
from transports.redis_streams import RedisStreamsTransport

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_PACKAGE = "tests.transports.streams.sample_modules"
SAMPLE_SUBSCRIPTIONS = {
    "recorder.on_created": "patient.created",
    "recorder.on_patient": "patient.*",
    "poison.always_raises": "patient.created",
    "poison.kills_process": "patient.updated",
}


def sample_subscriptions(modules: Iterable[str] = ("recorder",)) -> list[Subscription]:
    """The subscriptions the sample modules make (for ``prepare`` in the test process)."""
    wanted = set(modules)
    return [
        Subscription(handler_id, pattern, lambda payload: None, TRANSPORT)
        for handler_id, pattern in SAMPLE_SUBSCRIPTIONS.items()
        if handler_id.split(".")[0] in wanted
    ]


def worker_env(url: str, prefix: str, modules: Iterable[str], **settings: Any) -> dict[str, str]:
    """The environment of a worker process: the sample modules, Redis Streams, fast timings."""
    env = dict(os.environ)
    values: dict[str, Any] = {
        "EVENTBUS_TRANSPORT": TRANSPORT,
        "EVENTBUS_REDIS_URL": url,
        "EVENTBUS_KEY_PREFIX": prefix,
        "MODULES_PACKAGE": SAMPLE_PACKAGE,
        "ENABLED_MODULES": '["' + '","'.join(modules) + '"]',
        "DATABASE_URL": "sqlite:///:memory:",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        "EVENTBUS_CLAIM_IDLE_MS": 1000,
        "EVENTBUS_BLOCK_MS": 100,
        "EVENTBUS_BATCH_SIZE": 20,
        "EVENTBUS_RETRY_BACKOFF_MS": 20,
        "EVENTBUS_MAINTENANCE_INTERVAL_MS": 500,
        "EVENTBUS_CONSUMER_EXPIRY_MS": 1500,
    }
    values.update(settings)
    env.update({f"FLASK_{key}": str(value) for key, value in values.items()})
    return env


class WorkerProcess:
    """One ``flask events worker`` subprocess under a stable consumer name."""

    def __init__(
        self, name: str, env: Mapping[str, str], log_dir: Path, args: Iterable[str] = ()
    ) -> None:
        self.name = name
        self.env = {**env, "SAMPLE_WORKER": name}
        self.args = list(args)
        self.log = log_dir / f"worker-{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> WorkerProcess:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "events", "worker"]
        command += ["--consumer-name", self.name, *self.args]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.starts += 1
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive:
            assert self.process is not None
            os.kill(self.process.pid, signum)

    def wait(self, timeout: float = 60) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 30 s; by pid, only if still running."""
        if not self.alive:
            return
        self.signal(signal.SIGTERM)
        try:
            self.wait(30)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.wait(30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@contextmanager
def workers(*processes: WorkerProcess) -> Iterator[tuple[WorkerProcess, ...]]:
    """Start ``processes``; stop every one of them on the way out, whatever happened."""
    try:
        for process in processes:
            process.start()
        yield processes
    finally:
        for process in processes:
            process.stop()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:.0f} s: {what}")
        time.sleep(0.05)


def handled(client: Any, prefix: str, handler_id: str) -> dict[str, int]:
    """Event ``n`` -> times ``handler_id`` handled it."""
    return {k.decode(): int(v) for k, v in client.hgetall(f"{prefix}:rec:{handler_id}").items()}


def handled_by(client: Any, prefix: str, worker: str) -> int:
    """How many handlings the worker process named ``worker`` recorded."""
    return int(client.hget(f"{prefix}:by-worker", worker) or 0)


def pending_total(client: Any, prefix: str, handler_ids: Iterable[str]) -> int:
    """Entries pending in the groups of ``handler_ids`` on every event stream under ``prefix``."""
    total = 0
    for stream in client.scan_iter(match=f"{prefix}:stream:*"):
        for group in client.xinfo_groups(stream):
            if group["name"].decode() in set(handler_ids):
                total += int(group["pending"])
    return total


class Publisher:
    """Publishes numbered events through the real transport, optionally paced."""

    def __init__(self, client: Any, url: str, prefix: str, modules: tuple[str, ...]) -> None:
        self.transport = RedisStreamsTransport(client, fast_settings(prefix, url))
        self.subs = sample_subscriptions(modules)
        self.transport.prepare(self.subs)

    def publish(self, n: int, event_type: str = "patient.created", **extra: Any) -> None:
        subs = [s for s in self.subs if s.pattern in (event_type, "patient.*")]
        self.transport.publish(envelope(event_type, n=n, patient_id=f"p{n}", **extra), subs)

    def paced(self, count: int, per_second: float, **extra: Any) -> threading.Thread:
        def run() -> None:
            started = time.monotonic()
            for n in range(count):
                self.publish(n, **extra)
                delay = started + (n + 1) / per_second - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def verdict(client: Any, prefix: str, handler_id: str, expected: int) -> dict[str, int]:
    """Lost / duplicated counts for one handler (Jepsen total-queue vocabulary)."""
    seen = handled(client, prefix, handler_id)
    wanted = {str(n) for n in range(expected)}
    return {
        "handled": len(wanted & set(seen)),
        "lost": len(wanted - set(seen)),
        "duplicates": sum(seen.values()) - len(seen),
        "unexpected": len(set(seen) - wanted),
    }


def report(name: str, results: dict[str, dict[str, int]], **facts: Any) -> None:
    print(f"\n[{name}] {facts} " + "; ".join(f"{h}: {r}" for h, r in results.items()))


def all_handled(client: Any, prefix: str, count: int, handler_ids: tuple[str, ...]) -> bool:
    return all(len(handled(client, prefix, h)) >= count for h in handler_ids)
