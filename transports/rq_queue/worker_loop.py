"""RQ's work loop made to keep going, or to stop visibly: the base of the bus's RQ workers.

RQ's loop ends on any unexpected exception ("found an unhandled exception, quitting") and
``work()`` returns normally, so ``rq worker`` exits 0 and a supervisor restarting on failure
does not restart it. :class:`GuardedWorkerLoop`:

- raises :class:`RQWorkerStoppedError` from ``work()`` when the loop ended on an error rather
  than on a requested stop, an empty queue (burst), ``--max-jobs`` or ``--max-idle-time``
  (the CLI then exits non-zero);
- goes on after an error reading one dequeued job (the job stays in RQ's intermediate list,
  which maintenance fails visibly); the bus's job class makes such errors rare
  (``job_hash``: a corrupt hash is refused, not raised);
- runs a job's failure into the registry of the queue it was found on, whatever its hash says
  its ``origin`` is;
- bounds recovery after a killed worker (``recovery``): idle waits end at each maintenance
  interval, a dead scheduler's lock is freed, the maintenance lock lapses in a few intervals,
  a job its dead worker took but never started is retried (or failed) once its claim lapsed.
"""

from __future__ import annotations

from typing import Any

from rq.exceptions import StopRequested
from rq.registry import clean_registries
from rq.utils import now
from rq.worker import BaseWorker
from rq.worker_registration import clean_worker_registry

from app.core.events.exceptions import TransportError

from .recovery import (
    SCHEDULER_STALE_AFTER_S,
    dequeue_timeout,
    maintenance_lock_ttl,
    recover_unstarted_jobs,
    release_stale_scheduler_locks,
)

__all__ = ["GuardedWorkerLoop", "RQWorkerStoppedError"]


class RQWorkerStoppedError(TransportError):
    """An RQ worker's loop ended on an error, not on a requested stop (exit non-zero)."""


class GuardedWorkerLoop(BaseWorker):
    """RQ's worker with the guards above; the bus's workers derive from it."""

    scheduler_stale_after = SCHEDULER_STALE_AFTER_S
    """Seconds without a scheduler heartbeat after which its lock is taken over."""

    heartbeat_grace = 60
    """Seconds added to a running job's heartbeat before it counts as abandoned (RQ's 60)."""

    @property
    def unstarted_grace(self) -> float:
        """Seconds a taken job may stay unclaimed (no execution) before it counts as abandoned:
        the tolerance a running job's heartbeat gets, ``monitoring interval + grace``."""
        return float(self.job_monitoring_interval + self.heartbeat_grace)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unexpected_stop: BaseException | None = None

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """RQ's work loop; :class:`RQWorkerStoppedError` if it ended on an error."""
        worked = bool(super().work(*args, **kwargs))
        stopped_by = self.unexpected_stop
        if stopped_by is not None and not self._stop_requested:
            raise RQWorkerStoppedError(
                f"the RQ worker {self.name} stopped on {type(stopped_by).__name__}: "
                f"{str(stopped_by)[:200]}"
            ) from stopped_by
        return worked

    @property
    def dequeue_timeout(self) -> int:
        """Idle waits end at each maintenance interval (RQ: ``worker_ttl - 15`` s)."""
        return dequeue_timeout(self.worker_ttl, self.maintenance_interval)

    def dequeue_job_and_maintain_ttl(self, timeout: Any, max_idle_time: Any = None) -> Any:
        """RQ's dequeue; an error reading one job is logged and the next job is taken."""
        while True:
            try:
                return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            except StopRequested:
                raise
            except Exception as exc:
                job_id = getattr(exc, "job_id", None)
                if job_id is None:
                    self.unexpected_stop = exc
                    raise
                self.log.error(
                    "Worker %s: could not read job %s (%s); maintenance will fail it",
                    self.name,
                    str(job_id)[:100],
                    type(exc).__name__,
                )

    def execute_job(self, job: Any, queue: Any) -> None:
        """RQ's, in the registry of the queue the job was found on; errors remembered."""
        if job.origin != queue.name:
            job.origin = queue.name
        try:
            super().execute_job(job, queue)
        except StopRequested:
            raise
        except Exception as exc:
            self.unexpected_stop = exc
            raise

    def run_maintenance_tasks(self) -> None:
        """Free a dead scheduler's locks first (``recovery``), then RQ's maintenance."""
        try:
            scheduler = self.scheduler
            process = scheduler._process if scheduler is not None else None
            if scheduler is not None and not (process is not None and process.is_alive()):
                release_stale_scheduler_locks(
                    self.connection, self.queue_names(), self.scheduler_stale_after
                )
            super().run_maintenance_tasks()  # type: ignore[no-untyped-call]
        except StopRequested:
            raise
        except Exception as exc:
            self.unexpected_stop = exc
            raise

    def clean_registries(self) -> None:
        """RQ's registry cleaning, under a maintenance lock that lapses in a few intervals."""
        ttl = maintenance_lock_ttl(self.maintenance_interval)
        for queue in self.queues:
            lock = queue.registry_cleaning_key
            if not self.connection.set(lock, 1, nx=True, ex=ttl):
                continue
            try:
                self.log.info("Worker %s: cleaning registries for queue: %s", self.name, queue.name)
                for job_id in recover_unstarted_jobs(self, queue, self.unstarted_grace):
                    self.log.warning(
                        "Worker %s: job %s was taken by a worker that stopped before starting "
                        "it: retried or failed",
                        self.name,
                        job_id,
                    )
                clean_registries(queue, self._exc_handlers)
                clean_worker_registry(queue)
                queue.intermediate_queue.cleanup(self, queue)
            finally:
                self.connection.delete(lock)
        self.last_cleaned_at = now()  # type: ignore[assignment]
