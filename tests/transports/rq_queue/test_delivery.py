"""Publishing to RQ against the real Redis: one job per handler, duplicates, retries, queues."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from rq.job import Job
from rq.queue import Queue
from rq.serializers import JSONSerializer

from app.core.events import EventType, TransportError
from app.core.events.envelope import Envelope
from tests.support.redis_server import free_port
from tests.transports.rq_queue.conftest import Publisher
from transports import rq_queue
from transports.rq_queue import RQDeadLetterStore, RQSettings, RQTransport, drain

pytestmark = pytest.mark.redis


def run_all(publisher: Publisher, key_prefix: str) -> None:
    with rq_queue.installed(publisher.bus):
        drain(publisher.client, publisher.settings.queue_names(), worker_name=key_prefix)


def envelope(n: int = 1) -> Envelope:
    return Envelope(
        id=f"{n:032x}",
        type="patient.created",
        payload={"patient_id": f"p{n}"},
        correlation_id="c",
        occurred_at="2026-11-22T10:00:00.000000Z",
    )


def test_the_same_envelope_published_twice_runs_each_handler_once(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    publisher = make_publisher()
    got: list[str] = []
    publisher.bus.subscribe(
        EventType.PATIENT_CREATED, lambda p: got.append(p["patient_id"]), handler_id="dup.a"
    )
    subs = publisher.bus.subscriptions()
    publisher.transport.publish(envelope(), subs)
    publisher.transport.publish(envelope(), subs)
    queue = Queue(publisher.settings.queue_names()[0], connection=publisher.client)
    assert queue.count == 1
    run_all(publisher, key_prefix)
    publisher.transport.publish(envelope(), subs)  # after the run, while its result is kept
    run_all(publisher, key_prefix)
    assert got == ["p1"]


def test_a_duplicate_skips_only_the_handlers_already_enqueued(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    publisher = make_publisher()
    got: list[str] = []

    def recorder(name: str) -> Callable[[dict[str, Any]], None]:
        return lambda payload: got.append(name)

    for name in ("a", "b", "c"):
        publisher.bus.subscribe(EventType.PATIENT_CREATED, recorder(name), handler_id=f"dup.{name}")
    a, b, c = publisher.bus.subscriptions()
    publisher.transport.publish(envelope(), [b])
    publisher.transport.publish(envelope(), [a, b, c])
    run_all(publisher, key_prefix)
    assert sorted(got) == ["a", "b", "c"]


def test_the_duplicate_window_outlives_the_result_ttl(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    publisher = make_publisher(EVENTBUS_RQ_RESULT_TTL=0, EVENTBUS_RQ_DEDUP_TTL=60)
    got: list[str] = []
    publisher.bus.subscribe(EventType.PATIENT_CREATED, lambda p: got.append("x"), handler_id="d.x")
    subs = publisher.bus.subscriptions()
    publisher.transport.publish(envelope(), subs)
    run_all(publisher, key_prefix)
    job_id = publisher.settings.job_id(envelope().id, "d.x")
    assert not Job.exists(job_id, connection=publisher.client), "result_ttl=0: job deleted"
    publisher.transport.publish(envelope(), subs)
    run_all(publisher, key_prefix)
    assert got == ["x"]
    assert 0 < publisher.client.ttl(publisher.settings.dedup_key(job_id)) <= 60


def test_an_always_failing_handler_is_tried_exactly_max_deliveries_times(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    publisher = make_publisher(EVENTBUS_MAX_DELIVERIES=3, EVENTBUS_RQ_RETRY_INTERVALS=[2, 0])
    attempts: list[float] = []
    ok: list[dict[str, Any]] = []

    def broken(payload: dict[str, Any]) -> None:
        attempts.append(time.monotonic())
        raise RuntimeError("broken for good")

    publisher.bus.subscribe(EventType.PATIENT_CREATED, broken, handler_id="fails.always")
    publisher.bus.subscribe(EventType.PATIENT_CREATED, ok.append, handler_id="fails.other")
    publisher.bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1"})
    run_all(publisher, key_prefix)
    assert len(attempts) == 3
    # RQ schedules in whole seconds, rounded down: a 2 s interval waits between 1 and 2 s.
    assert attempts[1] - attempts[0] >= 1.0, "the first retry waited its interval"
    assert ok == [{"patient_id": "p1"}], "the other handler ran once, untouched by the retries"
    [letter] = RQDeadLetterStore(publisher.settings, publisher.client).list()
    assert (letter.handler_id, letter.deliveries) == ("fails.always", 3)
    assert letter.reason == "RuntimeError: broken for good"
    assert letter.error_class == "RuntimeError"


def test_one_delivery_means_no_retry(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    publisher = make_publisher(EVENTBUS_MAX_DELIVERIES=1)
    attempts: list[int] = []

    def broken(payload: dict[str, Any]) -> None:
        attempts.append(1)
        raise RuntimeError("no")

    publisher.bus.subscribe(EventType.PATIENT_CREATED, broken, handler_id="once.only")
    publisher.bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1"})
    run_all(publisher, key_prefix)
    assert attempts == [1]
    [letter] = RQDeadLetterStore(publisher.settings, publisher.client).list()
    assert letter.deliveries == 1


def test_jobs_carry_the_growing_retry_schedule_and_the_settings(
    make_publisher: Callable[..., Publisher],
) -> None:
    publisher = make_publisher(
        EVENTBUS_MAX_DELIVERIES=6,
        EVENTBUS_RQ_RETRY_INTERVALS=[1, 5, 30],
        EVENTBUS_RQ_RESULT_TTL=42,
        EVENTBUS_RQ_JOB_TIMEOUT=99,
    )
    publisher.bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="sched.x")
    publisher.transport.publish(envelope(), publisher.bus.subscriptions())
    job = Job.fetch(
        publisher.settings.job_id(envelope().id, "sched.x"),
        connection=publisher.client,
        serializer=JSONSerializer,
    )
    assert job.retries_left == 5
    assert job.retry_intervals == [1, 5, 30, 30, 30]
    assert (job.result_ttl, job.timeout) == (42, 99)
    assert job.func_name == rq_queue.DISPATCHER_NAME
    assert job.args == ["sched.x", envelope().to_dict()]
    assert job.description == f"sched.x <- patient.created {envelope().id}"
    assert "p1" not in (job.description or ""), "no payload in what RQ logs"


def test_each_module_routes_to_its_configured_queue(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    publisher = make_publisher(EVENTBUS_RQ_QUEUE="main", EVENTBUS_RQ_QUEUES={"billing": "money"})
    for handler_id in ("billing.on_created", "notifications.on_created", "audit.on_created"):
        publisher.bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id=handler_id)
    publisher.bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1"})
    money = Queue(f"{key_prefix}:money", connection=publisher.client)
    main = Queue(f"{key_prefix}:main", connection=publisher.client)
    assert (money.count, main.count) == (1, 2)
    assert publisher.settings.queue_names() == [f"{key_prefix}:main", f"{key_prefix}:money"]
    queues = {q.key for q in Queue.all(connection=publisher.client)}
    assert {money.key, main.key} <= queues, "rq info lists the bus queues"


def test_an_unreachable_redis_raises_transport_error_without_the_password() -> None:
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    settings = RQSettings.from_config({"EVENTBUS_REDIS_URL": url})
    transport = RQTransport(settings, redis.Redis.from_url(url, socket_connect_timeout=2))
    with pytest.raises(TransportError) as caught:
        transport.publish(envelope(), [_sub("x.y")])
    assert "redis://:***@127.0.0.1" in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert isinstance(caught.value.__cause__, redis.ConnectionError)
    transport.close()


def _sub(handler_id: str) -> Any:
    from app.core.events.subscriptions import Subscription

    return Subscription(handler_id, "patient.created", lambda p: None, "rq")
