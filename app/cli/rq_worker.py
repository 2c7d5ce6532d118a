"""``flask events rq-worker``: an RQ worker for the bus's jobs, with the app already built.

The worker runs RQ's own work loop with the bus's safe job class (any job whose function is
not the bus dispatcher is refused), RQ's JSON serializer, the retry scheduler on, and job
descriptions out of the logs. ``app/`` never imports RQ: the transport is imported here,
lazily, inside the command.
"""

from __future__ import annotations

import click
from flask import current_app

from app.core.events.exceptions import EventBusError
from app.log import get_logger
from app.processes import record_command_process

from .group import events_cli
from .metrics_port import metrics_options, start_worker_metrics
from .preflight import refuse_unless_schema_at_head
from .unrouted import nothing_routed


@events_cli.command("rq-worker")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    help="A bus queue to serve (EVENTBUS_RQ_QUEUE or a value of EVENTBUS_RQ_QUEUES); "
    "repeatable. Default: every bus queue.",
)
@click.option("--burst", is_flag=True, help="Quit when the queues are empty.")
@click.option(
    "--simple",
    is_flag=True,
    help="Run jobs in the worker process (RQ's SimpleWorker) instead of forking one per job.",
)
@click.option("--name", default=None, help="Worker name (default: a random one).")
@click.option(
    "--maintenance-interval",
    type=click.IntRange(min=1),
    default=600,
    show_default=True,
    help="Seconds between RQ's registry maintenance (requeues jobs of dead workers).",
)
@click.option(
    "--job-monitoring-interval",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Seconds between heartbeats of a running job (forking worker).",
)
@click.option(
    "--max-jobs", type=click.IntRange(min=1), default=None, help="Quit after this many jobs."
)
@metrics_options
def rq_worker(
    *,
    metrics_port: int | None,
    metrics_host: str,
    queues: tuple[str, ...],
    burst: bool,
    simple: bool,
    name: str | None,
    maintenance_interval: int,
    job_monitoring_interval: int,
    max_jobs: int | None,
) -> None:
    """Run an RQ worker for the handlers routed to the `rq` transport."""
    from app.core.events.exceptions import ConfigurationError

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    refuse_unless_schema_at_head(app)
    record_command_process(app, "rq-worker")

    try:
        from transports.rq_queue import build_worker, routed_handlers
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"the RQ worker needs {exc.name!r}: pip install 'flask-eventbus[redis]'"
        ) from exc
    try:
        if not routed_handlers(app, queues):
            nothing_routed(app.config, "rq", narrowed_by="--queue", burst=burst)
            return
        worker = build_worker(
            app,
            queues,
            simple=simple,
            name=name,
            maintenance_interval=maintenance_interval,
            job_monitoring_interval=job_monitoring_interval,
        )
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    start_worker_metrics(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        metrics_port,
        metrics_host,
        forking=not simple,
    )
    get_logger("eventbus.rq").info(
        "worker.starting",
        worker=worker.name,
        queues=worker.queue_names(),
        mode="simple" if simple else "forking",
        burst=burst,
    )
    try:
        worker.work(burst=burst, with_scheduler=True, max_jobs=max_jobs)
    except EventBusError as exc:  # the loop stopped on an error: exit 1, one short line
        raise click.ClickException(str(exc)) from exc
