"""The consumer loop meets every exception a Redis call can raise, not only ``RedisError``.

The cluster client raises ``RedisClusterException`` types (not ``RedisError``); a reply cut
short can surface as a parser's ``TypeError``. The loop backs off and goes on after any of
them; what waiting cannot fix (refused credentials, ``CROSSSLOT``, the same non-Redis error
again and again) stops it with a :class:`TransportError` naming the cause, which stops the
worker (``flask events worker`` exits 1 with that message).
"""

from __future__ import annotations

import threading
from typing import Any, cast

import pytest
from redis.exceptions import (
    AuthenticationError,
    ClusterCrossSlotError,
    SlotNotCoveredError,
)
from redis.exceptions import (
    ConnectionError as RedisConnectionError,
)

from app.core.events import TransportError
from tests.transports.redis_streams.harness import StreamsRig, envelope
from transports.redis_common import RedisClient
from transports.redis_streams import EntryDelivery, GroupConsumer, StreamsWorker, WorkerCrashedError


class FailingPipelines:
    """``client`` whose pipelines' ``execute`` raises ``errors`` in turn, then works."""

    def __init__(self, client: Any, errors: list[BaseException]) -> None:
        self._client = client
        self.errors = errors

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def pipeline(self, *args: Any, **kwargs: Any) -> Any:
        pipe = self._client.pipeline(*args, **kwargs)
        execute = pipe.execute
        errors = self.errors

        def failing_execute(*a: Any, **k: Any) -> Any:
            if errors:
                raise errors.pop(0)
            return execute(*a, **k)

        pipe.execute = failing_execute
        return pipe


def _consumer(rig: StreamsRig, client: Any) -> GroupConsumer:
    stream = rig.settings.keys.stream("patient.created")
    return GroupConsumer(EntryDelivery(rig.bus, client, rig.settings, "t.rec", "w:0"), (stream,))


@pytest.mark.parametrize(
    "error",
    [
        SlotNotCoveredError("slot 42 is not covered"),  # RedisClusterException: no RedisError
        TypeError("'NoneType' object is not subscriptable"),  # a reply cut short
        RedisConnectionError("connection reset"),
    ],
    ids=["cluster-exception", "parser-error", "connection-error"],
)
def test_the_loop_backs_off_and_goes_on_after_any_client_exception(
    rig: StreamsRig, error: BaseException
) -> None:
    got: list[Any] = []
    rig.bus.subscribe("patient.created", got.append, handler_id="t.rec")
    [sub] = rig.bus.subscriptions()
    rig.transport.publish(envelope(n=1), [sub])
    flaky = FailingPipelines(rig.client, [error, error])
    _consumer(rig, flaky).run(threading.Event(), burst=True)
    assert got == [{"n": 1}] and flaky.errors == []


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (AuthenticationError("WRONGPASS invalid username-password pair"), "credentials"),
        (ClusterCrossSlotError("CROSSSLOT Keys in request don't hash to the same slot"), "slots"),
    ],
)
def test_what_waiting_cannot_fix_stops_a_daemon_loop_at_once(
    rig: StreamsRig, error: BaseException, cause: str
) -> None:
    rig.bus.subscribe("patient.created", lambda payload: None, handler_id="t.rec")
    flaky = FailingPipelines(rig.client, [error] * 100)
    outcome: list[BaseException] = []
    stop = threading.Event()

    def run() -> None:
        try:
            _consumer(rig, flaky).run(stop)  # a daemon loop: it would retry forever
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    stop.set()
    assert not thread.is_alive() and len(flaky.errors) == 99, "stopped at the first one"
    [stopped] = outcome
    assert isinstance(stopped, TransportError) and cause in str(stopped)


def test_a_non_redis_error_that_repeats_stops_the_loop(
    rig: StreamsRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("transports.redis_streams.reconnect.MAX_BACKOFF_S", 0.01)  # fast
    rig.bus.subscribe("patient.created", lambda payload: None, handler_id="t.rec")
    flaky = FailingPipelines(rig.client, [TypeError("a bug, not an outage")] * 100)
    stop = threading.Event()
    guard = threading.Timer(60, stop.set)  # a guard: the loop must stop by itself first
    guard.daemon = True  # and, cancelled or not, never keeps the test process alive
    guard.start()
    try:
        with pytest.raises(TransportError, match="10 unexpected errors in a row"):
            _consumer(rig, flaky).run(stop)
    finally:
        guard.cancel()
        stop.set()


def test_the_worker_stops_with_the_cause_when_a_consumer_cannot_go_on(rig: StreamsRig) -> None:
    rig.bus.subscribe("patient.created", lambda payload: None, handler_id="t.rec")
    flaky = FailingPipelines(rig.client, [AuthenticationError("WRONGPASS")] * 10)
    worker = StreamsWorker(
        rig.bus,
        rig.settings,
        rig.bus.subscriptions(),
        consumer_name="w",
        client=cast(RedisClient, flaky),
    )
    with pytest.raises(WorkerCrashedError, match="refused the credentials"):
        worker.run(stop_timeout=10)
    assert worker.running_threads() == []
