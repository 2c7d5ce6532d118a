"""Real RQ workers in subprocesses: RQ's own ``rq worker`` CLI and ``flask events rq-worker``.

The worker processes build the app with ``create_app()`` from the ``FLASK_*`` environment,
with the sample module package mounted; its handlers record into Redis under the test prefix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis
from rq.job import Job, Retry
from rq.queue import Queue
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from app.core.events import EventType, bind_correlation_id
from tests.support.redis_server import RedisServer
from tests.support.rq_workers import flask_worker_command, rq_worker_command, run_worker
from tests.transports.rq_queue.conftest import Publisher

pytestmark = [pytest.mark.redis, pytest.mark.slow]  # real worker subprocesses

CANARY = "tok_CANARY_123"


def recorded(client: redis.Redis, key_prefix: str, handler: str) -> list[dict[str, Any]]:
    return [json.loads(item) for item in client.lrange(f"{key_prefix}:sample:{handler}", 0, -1)]


def failure_of(client: redis.Redis, job_id: str) -> str:
    """The failure RQ recorded for ``job_id`` (its latest result)."""
    result = Job.fetch(job_id, connection=client, serializer=JSONSerializer).latest_result()
    assert result is not None
    return str(result.exc_string)


def test_rq_worker_cli_runs_bus_jobs_with_the_documented_settings(
    sample_publisher: Publisher,
    sample_env: dict[str, str],
    real_redis: RedisServer,
    key_prefix: str,
) -> None:
    with bind_correlation_id("req-cli-1"):
        for n in range(3):
            sample_publisher.bus.publish(
                EventType.PATIENT_CREATED, {"patient_id": f"p{n}", "secret": CANARY}
            )
    result = run_rq_cli(real_redis.url, sample_publisher, sample_env, key_prefix)
    client = sample_publisher.client
    got = recorded(client, key_prefix, "on_patient_created")
    assert sorted(entry["payload"]["patient_id"] for entry in got) == ["p0", "p1", "p2"]
    assert {entry["correlation_id"] for entry in got} == {"req-cli-1"}
    billing = recorded(client, key_prefix, "billing_on_patient_created")
    assert len(billing) == 3, "the per-module queue was served too"
    assert CANARY not in result.stdout, "payloads never reach the worker's logs"
    assert "Job OK" in result.stdout


def test_rq_worker_cli_refuses_a_hand_written_job(
    sample_publisher: Publisher,
    sample_env: dict[str, str],
    real_redis: RedisServer,
    key_prefix: str,
    tmp_path: Path,
) -> None:
    marker = tmp_path / "pwned"
    queue_name = sample_publisher.settings.queue_names()[0]
    queue = Queue(queue_name, connection=sample_publisher.client, serializer=JSONSerializer)
    job = queue.enqueue(
        "os.system", f"touch {marker}", job_id=f"{key_prefix}-evil", retry=Retry(max=3)
    )
    command = rq_worker_command(real_redis.url, [queue_name], extra=["--name", f"{key_prefix}-cli"])
    result = run_worker(command, sample_env)
    assert result.returncode == 0, result.stdout
    assert not marker.exists(), "os.system never ran"
    failed = FailedJobRegistry(queue_name, connection=sample_publisher.client)
    assert job.id in failed.get_job_ids()
    reason = failure_of(sample_publisher.client, job.id)
    assert "refused job" in reason
    assert "'os.system' is not the event bus dispatcher" in reason


def test_always_failing_handler_fails_after_exactly_the_configured_attempts(
    sample_publisher: Publisher,
    sample_env: dict[str, str],
    real_redis: RedisServer,
    key_prefix: str,
) -> None:
    with bind_correlation_id("req-fail-1"):
        sample_publisher.bus.publish(EventType.INVOICE_PAID, {"invoice_id": "i1"})
    result = run_rq_cli(real_redis.url, sample_publisher, sample_env, key_prefix)
    client = sample_publisher.client
    assert client.get(f"{key_prefix}:sample:attempts:always_fails") == b"3"
    failed = FailedJobRegistry(sample_publisher.settings.queue_names()[0], connection=client)
    [job_id] = failed.get_job_ids()
    assert "RuntimeError: always_fails refuses every event" in failure_of(client, job_id)
    logged = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    failures = [entry for entry in logged if entry.get("event") == "rq.handler_failed"]
    assert len(failures) == 3
    assert {(f["correlation_id"], f["handler_id"], f["error"]) for f in failures} == {
        ("req-fail-1", "rqsample.always_fails", "RuntimeError")
    }


def test_flask_rq_worker_serves_the_queues_it_is_given(
    sample_publisher: Publisher, sample_env: dict[str, str], key_prefix: str
) -> None:
    sample_publisher.bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p9"})
    client = sample_publisher.client
    result = run_worker(
        flask_worker_command("--burst", "--queue", "billing", "--name", f"{key_prefix}-flask"),
        sample_env,
    )
    assert result.returncode == 0, result.stdout
    assert [e["payload"] for e in recorded(client, key_prefix, "billing_on_patient_created")] == [
        {"patient_id": "p9"}
    ]
    assert recorded(client, key_prefix, "on_patient_created") == [], "default queue not served"
    result = run_worker(
        flask_worker_command("--burst", "--simple", "--name", f"{key_prefix}-flask2"), sample_env
    )
    assert result.returncode == 0, result.stdout
    assert len(recorded(client, key_prefix, "on_patient_created")) == 1


def test_flask_rq_worker_rejects_an_unknown_queue(sample_env: dict[str, str]) -> None:
    result = run_worker(flask_worker_command("--burst", "--queue", "nope"), sample_env)
    assert result.returncode != 0
    assert "unknown RQ queue(s) nope; configured: billing, eventbus" in result.stdout


def run_rq_cli(url: str, publisher: Any, env: dict[str, str], key_prefix: str) -> Any:
    """Run RQ's own ``rq worker`` in burst mode on the publisher's queues; it must exit 0.
    Returns the finished process (its output is asserted on)."""
    command = rq_worker_command(
        url, publisher.settings.queue_names(), extra=["--name", f"{key_prefix}-cli"]
    )
    result = run_worker(command, env)
    assert result.returncode == 0, result.stdout
    return result
