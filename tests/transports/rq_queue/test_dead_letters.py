"""RQ's failed registry as the bus's dead letters: list, show, replay (one handler), purge;
and the same through ``flask events dlq`` against a worker subprocess's failures."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from app.core.events import EventType, bind_correlation_id
from tests.support.redis_server import RedisServer
from tests.support.rq_workers import flask_command, rq_worker_command, run_worker
from tests.transports.rq_queue.conftest import Publisher
from transports import rq_queue
from transports.rq_queue import RQDeadLetterStore, dead_letter_store, drain

pytestmark = pytest.mark.redis


class Flaky:
    """Fails while ``failing`` is set; counts calls."""

    def __init__(self) -> None:
        self.failing = True
        self.calls: list[str] = []

    def __call__(self, payload: dict[str, Any]) -> None:
        self.calls.append(payload["patient_id"])
        if self.failing:
            raise ValueError(f"cannot handle {payload['patient_id']} yet")


@pytest.fixture
def failed_once(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> tuple[Publisher, Flaky, list[str]]:
    """Two handlers of one event; ``flaky`` dead-letters after 2 deliveries, ``ok`` ran once."""
    publisher = make_publisher(EVENTBUS_MAX_DELIVERIES=2, EVENTBUS_RQ_RETRY_INTERVALS=[0])
    flaky, ok = Flaky(), []
    publisher.bus.subscribe(EventType.PATIENT_CREATED, flaky, handler_id="dl.flaky")
    publisher.bus.subscribe(
        EventType.PATIENT_CREATED, lambda p: ok.append(p["patient_id"]), handler_id="dl.ok"
    )
    with bind_correlation_id("req-dl"):
        publisher.bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1"})
    run(publisher, key_prefix)
    return publisher, flaky, ok


def run(publisher: Publisher, key_prefix: str) -> None:
    with rq_queue.installed(publisher.bus):
        drain(publisher.client, publisher.settings.queue_names(), worker_name=key_prefix)


def test_list_and_get_show_the_dead_letter_with_its_envelope(
    failed_once: tuple[Publisher, Flaky, list[str]],
) -> None:
    publisher, flaky, ok = failed_once
    store = RQDeadLetterStore(publisher.settings, publisher.client)
    [letter] = store.list()
    assert store.get(letter.id) == letter
    assert (letter.transport, letter.handler_id, letter.deliveries) == ("rq", "dl.flaky", 2)
    assert letter.reason == "ValueError: cannot handle p1 yet"
    assert letter.envelope is not None
    assert letter.envelope.payload == {"patient_id": "p1"}
    assert letter.envelope.correlation_id == "req-dl"
    assert letter.dead_at.startswith("20")
    assert letter.raw["queue"] == publisher.settings.queue_names()[0]
    assert "ValueError: cannot handle p1 yet" in letter.raw["traceback"]
    assert (flaky.calls, ok) == (["p1", "p1"], ["p1"])
    with pytest.raises(KeyError):
        store.get("no-such-job")


def test_replay_runs_that_handler_only_with_a_fresh_retry_budget(
    failed_once: tuple[Publisher, Flaky, list[str]], key_prefix: str
) -> None:
    publisher, flaky, ok = failed_once
    store = RQDeadLetterStore(publisher.settings, publisher.client)
    [letter] = store.list()
    store.replay(letter.id)
    assert store.list() == ()
    run(publisher, key_prefix)
    assert flaky.calls == ["p1"] * 4, "two more deliveries: the retry budget was renewed"
    flaky.failing = False
    [again] = store.list()
    store.replay(again.id)
    run(publisher, key_prefix)
    assert flaky.calls == ["p1"] * 5
    assert ok == ["p1"], "the event's other handler never ran again"
    assert store.list() == ()
    with pytest.raises(KeyError):
        store.replay(letter.id)


def test_purge_one_or_all(failed_once: tuple[Publisher, Flaky, list[str]], key_prefix: str) -> None:
    publisher, _, _ = failed_once
    publisher.bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p2"})
    publisher.bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p3"})
    run(publisher, key_prefix)
    store = dead_letter_store(
        {
            "EVENTBUS_REDIS_URL": publisher.settings.redis_url,
            "EVENTBUS_KEY_PREFIX": publisher.settings.key_prefix,
        }
    )
    first, *rest = store.list()
    assert len(rest) == 2
    assert store.purge(first.id) == 1
    assert store.purge() == 2
    assert store.list() == ()


def test_a_refused_job_is_listed_but_never_replayed(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    from rq.queue import Queue
    from rq.serializers import JSONSerializer

    publisher = make_publisher()
    queue = Queue(
        publisher.settings.queue_names()[0], connection=publisher.client, serializer=JSONSerializer
    )
    queue.enqueue("os.getcwd", job_id=f"{key_prefix}-evil")
    run(publisher, key_prefix)
    store = RQDeadLetterStore(publisher.settings, publisher.client)
    [letter] = store.list()
    assert letter.envelope is None and letter.handler_id == ""
    assert letter.raw["func"] == "os.getcwd"
    with pytest.raises(ValueError, match="cannot be replayed"):
        store.replay(letter.id)


@pytest.mark.slow
def test_flask_events_dlq_lists_and_replays_rq_failures(
    sample_publisher: Publisher,
    sample_env: dict[str, str],
    real_redis: RedisServer,
    key_prefix: str,
) -> None:
    sample_publisher.bus.publish(EventType.INVOICE_PAID, {"invoice_id": "i7"})
    worker = rq_worker_command(
        real_redis.url, sample_publisher.settings.queue_names(), extra=["--name", f"{key_prefix}-w"]
    )
    assert run_worker(worker, sample_env).returncode == 0
    listing = run_worker(flask_command("events", "dlq", "list", "--json"), sample_env)
    assert listing.returncode == 0, listing.stdout
    [entry] = [json.loads(line) for line in listing.stdout.splitlines() if line.startswith("{")]
    assert entry["transport"] == "rq"
    assert (entry["handler_id"], entry["deliveries"]) == ("rqsample.always_fails", 3)
    assert entry["event_type"] == "invoice.paid"
    replayed = run_worker(flask_command("events", "dlq", "replay", entry["id"]), sample_env)
    assert replayed.returncode == 0, replayed.stdout
    assert f"replayed {entry['id']} (rq)" in replayed.stdout
    assert run_worker(worker, sample_env).returncode == 0
    client = sample_publisher.client
    assert client.get(f"{key_prefix}:sample:attempts:always_fails") == b"6"
