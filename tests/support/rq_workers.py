"""Run real RQ worker processes against an app config, and clean up their Redis keys.

For the RQ transport's own tests and for end-to-end suites (the clinic app with its handlers
routed to RQ): build the app's ``FLASK_*`` environment with :func:`app_environment`, start
``rq worker`` (or ``flask events rq-worker``) with :func:`rq_worker_command` /
:func:`flask_worker_command`, run it to the end with :func:`run_worker` (burst mode, bounded),
and delete every key of a test prefix with :func:`delete_rq_keys`. Each process starts in its
own session and is ended with its whole tree, by pid (``tests.support.processes``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.support.processes import end, start_in_session
from tests.support.redis_server import delete_prefix
from tests.support.schema import prepare_database

__all__ = [
    "REPO_ROOT",
    "app_environment",
    "delete_rq_keys",
    "flask_command",
    "flask_worker_command",
    "rq_worker_command",
    "run_worker",
    "start_worker",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def app_environment(
    redis_url: str, key_prefix: str, database_path: Path, **settings: Any
) -> dict[str, str]:
    """The process environment of a worker whose ``create_app()`` routes every handler to RQ.

    ``settings`` are extra config keys (``MODULES_PACKAGE="tests...."``,
    ``EVENTBUS_MAX_DELIVERIES=3``...), passed as ``FLASK_<KEY>`` JSON values. The database
    file is given its schema first (workers refuse to start on one behind head).
    """
    prepare_database(f"sqlite:///{database_path}", settings.get("MODULES_PACKAGE", "modules"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        PYTHONUNBUFFERED="1",
        FLASK_EVENTBUS_TRANSPORT="rq",
        FLASK_EVENTBUS_REDIS_URL=redis_url,
        FLASK_EVENTBUS_KEY_PREFIX=key_prefix,
        FLASK_EVENTBUS_RAISE_HANDLER_ERRORS="false",
        FLASK_DATABASE_URL=f"sqlite:///{database_path}",
        FLASK_LOG_FORMAT="json",
        FLASK_LOG_LEVEL="INFO",
    )
    env.pop("DATABASE_URL", None)
    for key, value in settings.items():
        env[f"FLASK_{key}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def rq_worker_command(
    redis_url: str,
    queues: Sequence[str],
    *,
    burst: bool = True,
    worker_class: str = "transports.rq_queue.BusWorker",
    extra: Sequence[str] = (),
) -> list[str]:
    """RQ's own ``rq worker`` command line with the settings the docs give for bus jobs."""
    command = [
        str(BIN / "rq"),
        "worker",
        "--url",
        redis_url,
        "--worker-class",
        worker_class,
        "--job-class",
        "transports.rq_queue.BusJob",
        "--serializer",
        "rq.serializers.JSONSerializer",
        "--disable-job-desc-logging",
        "--with-scheduler",
        *extra,
    ]
    if burst:
        command.append("--burst")
    return [*command, *queues]


def flask_command(*arguments: str) -> list[str]:
    """``flask --app wsgi ARGUMENTS`` (e.g. ``events dlq list``)."""
    return [str(BIN / "flask"), "--app", "wsgi", *arguments]


def flask_worker_command(*options: str) -> list[str]:
    """``flask --app wsgi events rq-worker OPTIONS``."""
    return flask_command("events", "rq-worker", *options)


def start_worker(command: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start a worker process in the repository root, in its own session; the caller ends
    it with its whole tree (``tests.support.processes``: ``end`` or ``stop_tree``)."""
    return start_in_session(command, env, cwd=REPO_ROOT, output=subprocess.PIPE, text=True)


def run_worker(
    command: Sequence[str], env: Mapping[str, str], timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run a burst worker to completion (killed with its tree after ``timeout`` seconds)."""
    process = start_worker(command, env)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        end(process)
        output, _ = process.communicate()
        raise AssertionError(f"worker still running after {timeout}s:\n{output}") from None
    except BaseException:  # interrupted (a test timeout): never leave the tree running
        end(process)
        raise
    return subprocess.CompletedProcess(list(command), process.returncode, output, "")


def delete_rq_keys(client: Any, key_prefix: str) -> None:
    """Delete the bus's and RQ's keys of a test prefix (queues, jobs, registries, workers).

    Every RQ key naming a queue, job or worker of the test carries ``key_prefix`` (queue
    ``<prefix>:<name>``, job ``<prefix>-<digest>``, workers named after the prefix).
    RQ's global ``rq:clean_groups`` lock is left to expire.
    """
    delete_prefix(client, f"{key_prefix}*")
    delete_prefix(client, f"rq:*{key_prefix}*")
    for index in ("rq:queues", "rq:workers"):
        members = [m for m in client.smembers(index) if key_prefix.encode() in m]
        if members:
            client.srem(index, *members)
