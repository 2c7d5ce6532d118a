"""Worker subprocesses for the fault tests, and the counters their handlers leave in Redis.

Each worker is ``python -m flask --app wsgi events worker`` built by the real app factory,
with the sample modules of ``sample_modules`` and short timings. Processes are ended only by
their own pid; every test stops what it started, whatever happened (``workers``).
Every wait is bounded and fails naming what it waited for, with the workers' state and logs.
The load they handle and the verdict on it are in ``load``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.core.events.subscriptions import Subscription
from tests.support.redis_server import dies_with_parent
from tests.transports.redis_streams.harness import TRANSPORT

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_PACKAGE = "tests.transports.redis_streams.sample_modules"
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
        "EVENTBUS_OUTBOX": "false",
        # the sample payloads are not the clinic's declared ones (a worker re-checks shapes)
        "EVENTBUS_VALIDATE_PAYLOADS": "false",
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
    env["PYTHONUNBUFFERED"] = "1"  # the log file is current when a test reads it
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
        assert not self.alive, f"worker {self.name} is already running"
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "events", "worker"]
        command += ["--consumer-name", self.name, *self.args]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                dies_with_parent(command),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        return self

    @property
    def alive(self) -> bool:
        """Whether the process runs (``poll`` also reaps it once it ended)."""
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive:
            assert self.process is not None
            os.kill(self.process.pid, signum)

    def wait(self, timeout: float = 60) -> int:
        """The exit status; fails clearly (the process keeps running) after ``timeout`` s."""
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"worker {self.name} still running after {timeout:.0f} s\n{self.describe()}"
            ) from None

    def kill(self) -> None:
        """SIGKILL by pid and reap."""
        self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 30 s; by pid, only if still running; always reaped."""
        if not self.alive:
            return
        assert self.process is not None
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def describe(self) -> str:
        """State and the end of the log, for failure messages."""
        state = "never started"
        if self.process is not None:
            code = self.process.poll()
            state = "running" if code is None else f"exited with status {code}"
        return f"--- worker {self.name} ({state}, {self.starts} start(s)):\n{self.output(1500)}"


@contextmanager
def workers(*processes: WorkerProcess) -> Iterator[tuple[WorkerProcess, ...]]:
    """Start ``processes``; stop every one of them on the way out, whatever happened."""
    try:
        for process in processes:
            process.start()
        yield processes
    finally:
        for process in processes:
            try:
                process.stop()
            except Exception as exc:  # keep stopping the others; the test reports its own error
                print(f"could not stop worker {process.name}: {exc!r}")


def describe(*processes: WorkerProcess) -> Callable[[], str]:
    """A ``wait_until`` diagnostic showing ``processes``' state and logs."""
    return lambda: "\n".join(process.describe() for process in processes)


def wait_until(
    condition: Callable[[], bool],
    what: str,
    timeout: float = 120,
    diagnose: Callable[[], str] | None = None,
) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after ``timeout`` seconds.

    ``diagnose`` adds context to the failure (e.g. :func:`describe` of the workers).
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            detail = f"\n{diagnose()}" if diagnose is not None else ""
            raise AssertionError(f"not reached within {timeout:.0f} s: {what}{detail}")
        time.sleep(0.05)
