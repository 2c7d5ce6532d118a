"""RQ workers that run bus jobs and nothing else.

- :class:`BusJob` refuses, before anything is imported, every job whose function is not the
  bus's dispatcher (RQ's own ``Job.func`` imports whatever path the job names, even with the
  JSON serializer): the job is failed at once, without retry, with the reason. It never
  imports callbacks and never sends webhooks named by job data.
- :class:`BusWorker` (RQ's forking ``Worker``) and :class:`BusSimpleWorker` (no fork) force
  that job class, RQ's ``JSONSerializer`` and job descriptions out of the logs, whatever the
  ``rq worker`` command line says, and build the app once (``create_app()``) before the first
  job, so a forked work horse inherits it.

RQ's own CLI runs them (see ``docs/transports/rq.md``); ``flask --app wsgi events
rq-command`` prints the line for the app's settings (``command.rq_command``), e.g.::

    rq worker --url redis://127.0.0.1:6379/0 --worker-class transports.rq_queue.BusWorker \\
        --job-class transports.rq_queue.BusJob --serializer rq.serializers.JSONSerializer \\
        --disable-job-desc-logging --with-scheduler eventbus:eventbus

and so does ``flask --app wsgi events rq-worker``, via :func:`build_worker`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import redis
from rq.exceptions import DeserializationError
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.serializers import JSONSerializer
from rq.worker import BaseWorker, SimpleWorker, Worker

from app.core.events.exceptions import ConfigurationError, MalformedEnvelopeError

from ..redis_common import connect_master
from . import dispatcher
from .dispatcher import DISPATCHER_NAME, LEGACY_DISPATCHER_NAMES, dispatch
from .job_hash import restore_tolerantly
from .settings import RQSettings
from .worker_loop import GuardedWorkerLoop, RQWorkerStoppedError

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "BusJob",
    "BusSimpleWorker",
    "BusWorker",
    "RQWorkerStoppedError",
    "build_worker",
    "resolve_queues",
    "routed_handlers",
]

HEARTBEAT_GRACE = 60
"""Seconds RQ adds to a running job's heartbeat before it counts as abandoned (RQ's fixed 60)."""


class BusJob(Job):
    """An RQ job that can run the bus dispatcher only; see the module docstring.

    ``permanent_failure`` (set by the refusal and by the dispatcher) stops RQ from retrying a
    failure that another attempt cannot fix, while ``retries_left`` keeps counting attempts.
    """

    permanent_failure = False
    corruption: str | None = None

    def restore(self, raw_data: Any) -> None:
        """RQ's parser, made unable to raise for a corrupt hash (``job_hash``): what it could
        not read is recorded in ``corruption`` and the job is refused."""
        self.corruption = restore_tolerantly(self, raw_data, Job.restore)

    @property
    def should_retry(self) -> bool:
        """RQ's rule (retries left), unless the failure is permanent."""
        if self.permanent_failure or self.refusal_reason() is not None:
            return False
        return bool(super().should_retry)

    @property
    def func(self) -> Callable[..., Any]:
        """The dispatcher; raises :class:`MalformedEnvelopeError` (no retry) for any other job."""
        reason = self.refusal_reason()
        if reason is not None:
            self.permanent_failure = True
            raise MalformedEnvelopeError(
                f"refused job {self.id}: {reason}; nothing it names was imported or run"
            )
        return dispatch

    def refusal_reason(self) -> str | None:
        """Why this job is not a bus job, or ``None`` if it is one."""
        if self.corruption is not None:
            return self.corruption
        try:
            call = (self.func_name, self.instance, self.args, self.kwargs)
        except DeserializationError:
            return "its data is not RQ JSON (pickled or corrupt)"
        func_name, instance, args, kwargs = call
        problems = (
            (
                func_name != DISPATCHER_NAME and func_name not in LEGACY_DISPATCHER_NAMES,
                f"its function {str(func_name)[:100]!r} is not the event bus dispatcher",
            ),
            (instance is not None, "it names an object to call the dispatcher on"),
            (
                bool(kwargs) or not isinstance(args, list | tuple) or len(args) != 2,
                "its arguments are not [handler_id, envelope]",
            ),
            (
                bool(
                    self._success_callback_name
                    or self._failure_callback_name
                    or self._stopped_callback_name
                ),
                "it names callbacks",
            ),
            (bool(self.webhooks), "it names webhooks"),
        )
        return next((reason for failed, reason in problems if failed), None)

    @property
    def success_callback(self) -> None:
        """Never imported: bus jobs have no callbacks."""
        return None

    @property
    def failure_callback(self) -> None:
        """Never imported (RQ also calls it when it finds the job abandoned)."""
        return None

    @property
    def stopped_callback(self) -> None:
        """Never imported."""
        return None

    def send_webhooks(self, status: str | JobStatus, *, exc_string: str | None = None) -> None:
        """Never sends: a URL taken from job data is not trusted."""


def _bus_arguments(queues: Any, kwargs: dict[str, Any]) -> list[str]:
    """Force the safe settings into ``kwargs``; return the queue names."""
    listed = [queues] if isinstance(queues, str | Queue) else list(queues)
    if kwargs.get("connection") is None:
        for queue in listed:
            if isinstance(queue, Queue):
                kwargs["connection"] = queue.connection
                break
    kwargs["job_class"] = BusJob
    kwargs["serializer"] = JSONSerializer
    kwargs["log_job_description"] = False
    return [queue.name if isinstance(queue, Queue) else str(queue) for queue in listed]


class _BusWorkerBase(GuardedWorkerLoop):
    """What both bus workers add to RQ's: bus jobs only, the app built before the first job."""

    heartbeat_grace = HEARTBEAT_GRACE

    def __init__(self, queues: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(_bus_arguments(queues, kwargs), *args, **kwargs)

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """Build (or take the installed) app, then run RQ's work loop."""
        dispatcher.runtime()
        return bool(super().work(*args, **kwargs))


class BusWorker(_BusWorkerBase, Worker):
    """RQ's forking worker, restricted to bus jobs; the app is built before the first fork."""

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        """RQ's rule (``min(time left, monitoring interval) + 60``) with a configurable grace."""
        if job.timeout and job.timeout > 0:
            left = min(job.timeout - working_time, self.job_monitoring_interval)
            return int(left) + self.heartbeat_grace
        return int(self.job_monitoring_interval) + self.heartbeat_grace


class BusSimpleWorker(_BusWorkerBase, SimpleWorker):
    """RQ's non-forking worker, restricted to bus jobs (faster; no per-job isolation)."""

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        """RQ's rule for a worker that cannot beat during a job: ``timeout + grace``."""
        if job.timeout and job.timeout > 0:
            return int(job.timeout) + self.heartbeat_grace
        return int(self.worker_ttl) + self.heartbeat_grace


def resolve_queues(settings: RQSettings, names: Sequence[str] = ()) -> list[str]:
    """Full queue names for configured short names (all bus queues when ``names`` is empty).

    Raises :class:`ConfigurationError` naming the valid choices for an unknown name.
    """
    if not names:
        return settings.queue_names()
    known = {settings.default_queue, *settings.module_queues.values()}
    full = set(settings.queue_names())
    unknown = [name for name in names if name not in known and name not in full]
    if unknown:
        raise ConfigurationError(
            f"unknown RQ queue(s) {', '.join(unknown)}; configured: {', '.join(sorted(known))}"
        )
    return [name if name in full else settings.full_queue_name(name) for name in names]


def routed_handlers(app: Flask, queues: Sequence[str] = ()) -> list[str]:
    """Ids of ``app``'s handlers routed to RQ whose queue is among ``queues`` (default: any).

    Raises :class:`ConfigurationError` for an unknown queue name, like :func:`resolve_queues`.
    """
    settings = RQSettings.from_config(app.config)
    served = set(resolve_queues(settings, queues))
    return sorted(
        {
            sub.handler_id
            for sub in app.extensions["eventbus"].bus.subscriptions()
            if sub.transport == "rq" and settings.queue_for(sub.handler_id) in served
        }
    )


def build_worker(
    app: Flask,
    queues: Sequence[str] = (),
    *,
    simple: bool = False,
    connection: redis.Redis | None = None,
    **worker_options: Any,
) -> BaseWorker:
    """A bus worker for ``app``'s configuration, delivering on ``app``'s bus.

    ``queues`` are short or full names (default: every bus queue). ``worker_options`` go to
    RQ's worker (``name``, ``maintenance_interval``, ``job_monitoring_interval``...).
    """
    config: Mapping[str, Any] = app.config
    settings = RQSettings.from_config(config)
    dispatcher.install(app.extensions["eventbus"].bus, app)
    client = connection or connect_master(settings.redis_url)
    worker_class: type[BaseWorker] = BusSimpleWorker if simple else BusWorker
    return worker_class(resolve_queues(settings, queues), connection=client, **worker_options)
