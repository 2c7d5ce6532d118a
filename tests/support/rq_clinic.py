"""One real ``rq worker`` process serving the clinic end-to-end suite (the ``rq`` profile).

:func:`running_clinic_rq_worker` starts RQ's own ``rq worker`` CLI in a subprocess with the
documented settings (``--job-class transports.rq_queue.BusJob``, the JSON serializer,
descriptions out of the logs, ``--with-scheduler``; long-running, not burst) and the worker
class :class:`tests.support.rq_observed_worker.ObservedBusWorker` (``BusWorker`` plus a window
on what handlers publish and send). Its app is built by ``create_app()`` from ``FLASK_*``
variables: every handler routed to RQ, a key prefix of its own, and ONE SQLite file that the
tests' apps share (:attr:`ClinicRQWorker.database_url`); tests delete their rows afterwards.

A worker process costs ~2 s to start, so one serves the whole session; each test's apps use
its prefix, and :meth:`ClinicRQWorker.reset` deletes the test's jobs and markers once the
queues are idle. The process is stopped by its pid (SIGTERM, then SIGKILL) and every key of
the prefix deleted when the session ends. Its output goes to a log file quoted in failures.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from flask import Flask
from rq.job import Job
from rq.queue import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer

from app.core.events.envelope import Envelope
from app.core.events.testing import EventRecorder, RecordedEvent
from tests.support.processes import start_in_session, stop_tree
from tests.support.redis_server import delete_prefix
from tests.support.rq_observed_worker import events_key, sent_key
from tests.support.rq_workers import (
    REPO_ROOT,
    app_environment,
    delete_rq_keys,
    rq_worker_command,
)
from transports.rq_queue import RQSettings

__all__ = ["WORKER_SETTINGS", "ClinicRQWorker", "running_clinic_rq_worker"]

WORKER_SETTINGS: dict[str, Any] = {
    "EVENTBUS_OUTBOX": False,  # direct publishing; the outbox+streams profile relays
    "EVENTBUS_RQ_RETRY_INTERVALS": [0],
    "EVENTBUS_MAX_DELIVERIES": 3,
}
"""Settings the worker and the tests' apps share: failures retry at once, fail after 3."""

SETTLE_TIMEOUT_S = 120.0


@dataclass
class ClinicRQWorker:
    """The running worker, its Redis, prefix and database; see the module docstring."""

    redis_url: str
    prefix: str
    database_url: str
    client: redis.Redis
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def settings(self) -> RQSettings:
        """The RQ settings both sides use."""
        return RQSettings.from_config(self.config())

    def config(self) -> dict[str, Any]:
        """``create_app`` overrides that route a test's app to this worker's queues."""
        return {
            "EVENTBUS_TRANSPORT": "rq",
            "EVENTBUS_OUTBOX": False,  # direct publishing; the outbox+streams profile relays
            "EVENTBUS_REDIS_URL": self.redis_url,
            "EVENTBUS_KEY_PREFIX": self.prefix,
            **WORKER_SETTINGS,
        }

    def busy(self) -> bool:
        """Whether a job waits, runs, or waits for a retry: one consistent ``MULTI`` snapshot.

        A job is in its queue, then the queue's intermediate list, then RQ's started
        registry until it ends; what its handler enqueues is written before it ends.
        """
        pipe = self.client.pipeline(transaction=True)
        for name in self.settings.queue_names():
            queue = Queue(name, connection=self.client)
            pipe.llen(queue.key)
            pipe.llen(queue.intermediate_queue_key)
            pipe.zcard(StartedJobRegistry(name, connection=self.client).key)
            pipe.zcard(ScheduledJobRegistry(name, connection=self.client).key)  # type: ignore[no-untyped-call]
        return any(pipe.execute())

    def wait_idle(self) -> None:
        """Poll until no job waits or runs; fail if the worker died or after the bound."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        pause = 0.002
        while self.busy():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the rq worker exited ({self.process.returncode})\n{self.log()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"rq queues still busy after {SETTLE_TIMEOUT_S}s\n{self.log()}"
                )
            time.sleep(pause)
            pause = min(0.02, pause * 1.5)  # quick for short waits, light on a busy machine

    def raise_failures(self) -> None:
        """Fail, quoting RQ's tracebacks, if any job ended in the failed registry."""
        failures = []
        for name in self.settings.queue_names():
            registry = FailedJobRegistry(name, connection=self.client)
            for job_id in registry.get_job_ids():
                job = Job.fetch(job_id, connection=self.client, serializer=JSONSerializer)
                result = job.latest_result()
                failures.append(f"{job.args[0]}: {result.exc_string if result else '?'}")
        if failures:
            raise AssertionError("rq jobs failed:\n" + "\n".join(failures))

    def settle(self, app: Flask, recorder: EventRecorder | None) -> None:
        """Wait until idle, fail on failed jobs, then mirror what the worker's handlers
        published into ``recorder`` and sent into ``app``'s notifications sender."""
        self.wait_idle()
        self.raise_failures()
        published = self._pop(events_key(self.prefix))
        sent = self._pop(sent_key(self.prefix))
        if recorder is not None:
            for item in published:
                envelope = Envelope.from_dict(item)
                recorder.events.append(
                    RecordedEvent(envelope.type, dict(envelope.payload), envelope)
                )
        state = app.extensions.get("notifications")
        recording = getattr(state, "sender", None)
        if recording is not None and hasattr(recording, "sent"):
            from modules.notifications import OutgoingMessage

            recording.sent.extend(OutgoingMessage(**item) for item in sent)

    def reset(self) -> None:
        """Delete what one test left (jobs, results, registries, markers); call when idle."""
        job_prefix = self.settings.job_id_prefix()
        for pattern in (f"rq:job:{job_prefix}*", f"rq:results:{job_prefix}*",
                        f"rq:executions:{job_prefix}*", f"{self.prefix}:rq:dedup:*",
                        f"{self.prefix}:observed:*"):  # fmt: skip
            delete_prefix(self.client, pattern)
        registries = [f"rq:{kind}:{name}" for name in self.settings.queue_names()
                      for kind in ("finished", "failed")]  # fmt: skip
        self.client.delete(*registries)

    def log(self, lines: int = 40) -> str:
        """The last lines of the worker's output."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _pop(self, key: str) -> list[dict[str, Any]]:
        pipe = self.client.pipeline(transaction=True)
        pipe.lrange(key, 0, -1)
        pipe.delete(key)
        items, _ = pipe.execute()
        return [json.loads(item) for item in items]


@contextmanager
def running_clinic_rq_worker(redis_url: str, directory: Path) -> Iterator[ClinicRQWorker]:
    """Start the session's worker (see the module docstring); stop it and clean up after."""
    prefix = f"test-eventbus-rq-{uuid.uuid4().hex[:12]}"
    database = directory / "clinic.db"
    env = app_environment(redis_url, prefix, database, **WORKER_SETTINGS)
    command = rq_worker_command(
        redis_url,
        RQSettings.from_config({"EVENTBUS_KEY_PREFIX": prefix}).queue_names(),
        burst=False,
        worker_class="tests.support.rq_observed_worker.ObservedBusWorker",
        extra=["--name", f"{prefix}-clinic"],
    )
    log_path = directory / "rq-worker.log"
    client = redis.Redis.from_url(redis_url)
    with log_path.open("wb") as log:
        process = start_in_session(command, env, cwd=REPO_ROOT, output=log)
    worker = ClinicRQWorker(redis_url, prefix, f"sqlite:///{database}", client, process, log_path)
    try:
        yield worker
    finally:
        stop_tree(process)  # warm stop, then its whole tree, by pid
        delete_rq_keys(client, prefix)
        client.close()
