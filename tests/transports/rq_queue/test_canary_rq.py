"""The canary on the RQ path: real ``rq worker`` and ``flask events rq-worker`` processes.

A marker is put in the payloads (a patient's name and email) and in the Redis password of a
private ``redis-server`` the test starts and stops by its pid. Two handlers fail in RQ work
horses: ``raise ValueError(f"bad {email}")`` and a PostgreSQL CHECK violation on a database
the test creates and drops (``DETAIL: Failing row contains (...)`` holds the marker; the
engine's parameters are shown). The marker must appear 0 times in the workers' output, the
failed jobs' stored failure (``exc_info`` and RQ's result), ``flask events dlq list``,
``dlq list --json``, ``stats``, and in ``dlq show`` outside the event itself (its envelope
and the job's arguments, which ``show`` prints on purpose: an operator decides on a replay).
The job hash is searched field by field, its ``data`` (the arguments) excepted, and RQ's
results stream too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from app.core.events import EventBus, EventType, Router
from tests.support.flask_cli import run_flask
from tests.support.postgres import postgres_database
from tests.support.redis_server import RedisServer, password_protected_redis
from tests.support.rq_workers import (
    app_environment,
    delete_rq_keys,
    flask_worker_command,
    rq_worker_command,
    run_worker,
)
from transports.rq_queue import RQSettings, RQTransport

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

MARKER = "canary9Rq"
PASSWORD = f"pw-{MARKER}"
HANDLERS = ("rqcanary.refuses", "rqcanarydb.checks_on_postgres")


def payload(n: int) -> dict[str, str]:
    return {
        "patient_id": f"p{n}",
        "clinic_id": "c1",
        "full_name": f"Ada {MARKER} {n}",
        "email": f"{MARKER}{n}@example.org",
    }


@pytest.fixture
def locked_redis() -> Iterator[RedisServer]:
    with password_protected_redis(PASSWORD) as server:
        yield server


@pytest.fixture
def people_url() -> Iterator[str]:
    with postgres_database() as url:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE TABLE people (email TEXT, name TEXT"
                    " CONSTRAINT people_name_short CHECK (length(name) < 4))"
                )
            )
        engine.dispose()
        yield url


def test_the_marker_never_leaves_an_rq_worker(
    locked_redis: RedisServer, people_url: str, key_prefix: str, tmp_path: Path
) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{locked_redis.port}/0"
    env = app_environment(
        url,
        key_prefix,
        tmp_path / "worker.db",
        MODULES_PACKAGE="tests.transports.rq_queue.canary_modules",
        EVENTBUS_MAX_DELIVERIES=1,  # failed for good at once: a dead letter
        EVENTBUS_VALIDATE_PAYLOADS=False,
    )
    env["CANARY_PEOPLE_URL"] = people_url
    client = redis.Redis.from_url(url)
    settings = RQSettings.from_config(
        {"EVENTBUS_REDIS_URL": url, "EVENTBUS_KEY_PREFIX": key_prefix, "EVENTBUS_MAX_DELIVERIES": 1}
    )
    transport = RQTransport(settings, redis.Redis.from_url(url))
    bus = EventBus()
    bus.configure(router=Router("rq", {}, {"inprocess", "rq"}), transports={"rq": transport})
    for handler_id in HANDLERS:
        bus.subscribe(EventType.PATIENT_CREATED, lambda _: None, handler_id=handler_id)
    seen: list[str] = []
    try:
        bus.publish(EventType.PATIENT_CREATED, payload(1))
        rq_cli = run_worker(rq_worker_command(url, settings.queue_names()), env)
        assert rq_cli.returncode == 0, rq_cli.stdout
        bus.publish(EventType.PATIENT_CREATED, payload(2))
        flask_cli = run_worker(flask_worker_command("--burst"), env)
        assert flask_cli.returncode == 0, flask_cli.stdout
        seen += [rq_cli.stdout, flask_cli.stdout]

        failed = FailedJobRegistry(settings.queue_names()[0], connection=client)
        job_ids = failed.get_job_ids()
        assert len(job_ids) == 4, (job_ids, rq_cli.stdout, flask_cli.stdout)
        reasons = []
        for job_id in job_ids:
            job = Job.fetch(job_id, connection=client, serializer=JSONSerializer)
            result = job.latest_result()
            assert result is not None
            reasons.append(str(result.exc_string))
            seen += [str(result.exc_string), str(job.meta)]
            fields = client.hgetall(f"rq:job:{job_id}")
            seen += [repr(v) for k, v in fields.items() if k != b"data"]  # data: the arguments
            seen += [repr(entry) for entry in client.xrange(f"rq:results:{job_id}") or ()]
        joined = "\n".join(reasons)
        assert joined.count("ValueError: bad [redacted]") == 2, joined
        assert joined.count("SQLSTATE 23514, constraint people_name_short") == 2, joined

        seen += _operator_output(env)
    finally:
        transport.close()
        delete_rq_keys(client, key_prefix)
        client.close()
    leaks = [text for text in seen if MARKER in text]
    assert leaks == [], leaks


def _flask(env: dict[str, str], *arguments: str) -> str:
    result = run_flask(*arguments, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def _operator_output(env: dict[str, str]) -> list[str]:
    """``dlq list`` (text and JSON), ``stats``, and each ``dlq show`` without the event."""
    listed = _flask(env, "events", "dlq", "list", "--json")
    letters = [json.loads(line) for line in listed.splitlines() if line.startswith("{")]
    assert {letter["handler_id"] for letter in letters} == set(HANDLERS), listed
    output = [listed, _flask(env, "events", "dlq", "list"), _flask(env, "events", "stats")]
    for letter in letters:
        shown = _flask(env, "events", "dlq", "show", letter["id"])
        detail: dict[str, Any] = json.loads(shown)
        assert MARKER in json.dumps(detail.pop("envelope")), "show prints the event on purpose"
        raw = detail.get("raw") or {}
        raw.pop("args", None)
        assert "[redacted]" in detail["reason"] or "SQLSTATE" in detail["reason"], detail
        output.append(json.dumps(detail))
    return output
