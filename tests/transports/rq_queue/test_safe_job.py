"""The bus's job class refuses every job that is not a bus job, before RQ imports anything.

Hand-written jobs go straight into a bus queue on the real Redis (as anyone with write access
to Redis could do); a bus worker runs the queue; the job must never run, never import what it
names, and end in the failed registry at once with the reason.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rq.callbacks import Callback
from rq.job import Job, Retry
from rq.queue import Queue
from rq.registry import FailedJobRegistry
from rq.serializers import DefaultSerializer, JSONSerializer

from app.core.events import EventType
from tests.transports.rq_queue.conftest import Publisher
from transports import rq_queue
from transports.rq_queue import DISPATCHER_NAME, RQDeadLetterStore, drain

pytestmark = pytest.mark.redis

TRIPWIRE = "tests.transports.rq_queue.tripwire"


class Exploit:
    """Unpickling this runs ``touch <marker>``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def publisher(make_publisher: Callable[..., Publisher]) -> Publisher:
    return make_publisher(EVENTBUS_RQ_RETRY_INTERVALS=[0], EVENTBUS_MAX_DELIVERIES=4)


def run_queue(publisher: Publisher, key_prefix: str) -> None:
    with rq_queue.installed(publisher.bus):
        drain(publisher.client, publisher.settings.queue_names(), worker_name=key_prefix)


def refused(publisher: Publisher, job: Job, error: str = "MalformedEnvelopeError") -> str:
    failed = FailedJobRegistry(publisher.settings.queue_names()[0], connection=publisher.client)
    assert job.id in failed.get_job_ids(), "the job ended in the failed registry"
    [letter] = [d for d in RQDeadLetterStore(publisher.settings, publisher.client).list()]
    assert letter.id == job.id and letter.envelope is None
    assert letter.deliveries == 1, "refused at once, whatever Retry the job carries"
    assert letter.error_class == error
    return letter.reason


def letter_traceback(publisher: Publisher, job: Job) -> str:
    letter = RQDeadLetterStore(publisher.settings, publisher.client).get(job.id)
    return letter.raw["traceback"]


def test_a_job_naming_os_system_never_runs(
    publisher: Publisher, key_prefix: str, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    queue = Queue(
        publisher.settings.queue_names()[0], connection=publisher.client, serializer=JSONSerializer
    )
    job = queue.enqueue(
        "os.system", f"touch {marker}", job_id=f"{key_prefix}-evil", retry=Retry(max=3)
    )
    run_queue(publisher, key_prefix)
    assert not marker.exists()
    reason = refused(publisher, job)
    assert "'os.system' is not the event bus dispatcher" in reason
    assert letter_traceback(publisher, job).endswith(
        "refused job " + job.id + ": its function 'os.system' is not the event bus dispatcher; "
        "nothing it names was imported or run\n"
    )


def test_a_job_naming_a_module_never_imports_it(
    publisher: Publisher, key_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "imported"
    monkeypatch.setenv("EVENTBUS_TRIPWIRE", str(marker))
    queue = Queue(
        publisher.settings.queue_names()[0], connection=publisher.client, serializer=JSONSerializer
    )
    job = queue.enqueue(f"{TRIPWIRE}.detonate", job_id=f"{key_prefix}-tripwire")
    run_queue(publisher, key_prefix)
    assert TRIPWIRE not in sys.modules
    assert not marker.exists()
    assert f"{TRIPWIRE}.detonate" in refused(publisher, job)


def test_a_pickled_job_is_never_unpickled(
    publisher: Publisher, key_prefix: str, tmp_path: Path
) -> None:
    marker = tmp_path / "unpickled"
    queue = Queue(
        publisher.settings.queue_names()[0],
        connection=publisher.client,
        serializer=DefaultSerializer,
    )
    job = queue.enqueue(DISPATCHER_NAME, "x.y", Exploit(marker), job_id=f"{key_prefix}-pickle")
    run_queue(publisher, key_prefix)
    assert not marker.exists()
    assert "not RQ JSON" in refused(publisher, job, "DeserializationError")


def test_a_dispatcher_job_with_a_callback_is_refused_and_its_handler_never_runs(
    publisher: Publisher, key_prefix: str
) -> None:
    ran: list[dict[str, Any]] = []
    publisher.bus.subscribe(EventType.PATIENT_CREATED, ran.append, handler_id="safe.ran")
    envelope = {
        "id": "e" * 32,
        "type": "patient.created",
        "occurred_at": "2026-01-01T00:00:00Z",
        "correlation_id": "c",
        "payload": {"patient_id": "p1"},
    }
    queue = Queue(
        publisher.settings.queue_names()[0], connection=publisher.client, serializer=JSONSerializer
    )
    job = queue.enqueue(
        DISPATCHER_NAME,
        "safe.ran",
        envelope,
        job_id=f"{key_prefix}-cb",
        on_failure=Callback("os.system"),
        on_success=Callback("os.system"),
    )
    run_queue(publisher, key_prefix)
    assert ran == []
    assert "it names callbacks" in refused(publisher, job)
