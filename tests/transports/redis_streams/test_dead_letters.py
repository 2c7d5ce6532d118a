"""Dead letters: malformed entries at once, the store's list / get / replay / purge."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.core.events import EventType
from tests.support.redis_server import RedisServer
from tests.transports.redis_streams.harness import StreamsRig, envelope, fast_settings, make_rig
from transports.redis_streams import StreamsDeadLetterStore


def _store(rig: StreamsRig) -> StreamsDeadLetterStore:
    return StreamsDeadLetterStore(rig.client, rig.settings.keys)


@pytest.mark.parametrize(
    ("fields", "error_class", "reason"),
    [
        ({"type": "patient.created"}, "MalformedEnvelopeError", "missing field(s): id, payload"),
        ({**envelope().to_fields(), "payload": "{oops"}, "MalformedEnvelopeError", "bad version"),
        (
            {**envelope().to_fields(), "payload": '"text"'},
            "MalformedEnvelopeError",
            "not an object",
        ),
        ({**envelope().to_fields(), "id": b"\xff"}, "MalformedEnvelopeError", "not UTF-8"),
        ({**envelope().to_fields(), "type": "patient.exploded"}, "UnroutableEntry", "exploded"),
    ],
)
def test_a_malformed_entry_is_dead_lettered_at_once_with_its_reason(
    rig: StreamsRig, fields: dict[str, Any], error_class: str, reason: str
) -> None:
    got: list[Any] = []
    rig.bus.subscribe(EventType.PATIENT_CREATED, got.append, handler_id="t.h")
    rig.transport.prepare(rig.bus.subscriptions())
    rig.client.xadd(rig.settings.keys.stream("patient.created"), fields)
    rig.bus.publish(EventType.PATIENT_CREATED, {"k": "good"})
    rig.drain()
    assert got == [{"k": "good"}]
    [letter] = _store(rig).list()
    assert (letter.error_class, letter.deliveries, letter.handler_id) == (error_class, 1, "t.h")
    assert reason in letter.reason
    assert letter.raw  # the original fields, for `dlq show`
    rig.bus.clear()


def test_a_pending_entry_whose_body_was_deleted_is_dead_lettered(
    redis_client: Any, real_redis: RedisServer, key_prefix: str
) -> None:
    rig = make_rig(redis_client, fast_settings(key_prefix, real_redis.url, claim_idle_ms=200))
    rig.bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="t.h")
    rig.bus.publish(EventType.PATIENT_CREATED, {"k": "a"})
    stream = rig.settings.keys.stream("patient.created")
    [[_, [(entry_id, _)]]] = rig.client.xreadgroup("t.h", "dead:0", {stream: ">"})
    rig.client.xdel(stream, entry_id)  # e.g. trimmed by a MAXLEN someone else ran
    time.sleep(rig.settings.claim_idle_ms / 1000 + 0.1)
    rig.drain()
    [letter] = _store(rig).list()
    assert letter.error_class == "EntryDeleted" and letter.envelope is None
    assert rig.client.xpending(stream, "t.h")["pending"] == 0
    rig.bus.clear()


def test_replay_reaches_that_handler_only_and_removes_the_dead_letter(rig: StreamsRig) -> None:
    calls = {"flaky": 0, "other": 0}
    healthy = {"now": False}

    def flaky(payload: dict[str, Any]) -> None:
        calls["flaky"] += 1
        if not healthy["now"]:
            raise RuntimeError("down")

    def other(payload: dict[str, Any]) -> None:
        calls["other"] += 1

    rig.bus.subscribe(EventType.PATIENT_CREATED, flaky, handler_id="t.flaky")
    rig.bus.subscribe(EventType.PATIENT_CREATED, other, handler_id="t.other")
    rig.bus.publish(EventType.PATIENT_CREATED, {"k": "a"})
    rig.drain()
    store = _store(rig)
    [letter] = store.list()
    assert calls == {"flaky": 3, "other": 1}
    healthy["now"] = True
    store.replay(letter.id)
    assert store.count() == 0
    rig.drain()
    assert calls == {"flaky": 4, "other": 1}
    with pytest.raises(KeyError):
        store.get(letter.id)
    rig.bus.clear()


def test_store_get_replay_and_purge_edge_cases(rig: StreamsRig) -> None:
    store = _store(rig)
    rig.bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="t.h")
    rig.transport.prepare(rig.bus.subscriptions())
    stream = rig.settings.keys.stream("patient.created")
    rig.client.xadd(stream, {"garbage": "yes"})
    rig.client.xadd(stream, {"garbage": "again"})
    rig.drain()
    first, _second = store.list()
    with pytest.raises(ValueError, match="no valid event"):
        store.replay(first.id)
    for unknown in ("0-1", "not-an-id", "rq:job:123"):
        with pytest.raises(KeyError):
            store.get(unknown)
    assert store.count_by_handler() == {"t.h": 2}
    assert store.purge("not-an-id") == 0
    assert store.purge(first.id) == 1
    assert store.purge() == 1
    assert store.list() == []
    rig.bus.clear()


def test_an_entry_for_a_handler_this_process_does_not_know_is_dead_lettered(
    rig: StreamsRig,
) -> None:
    def handler(payload: dict[str, Any]) -> None:
        raise AssertionError("never called")

    rig.bus.subscribe(EventType.PATIENT_CREATED, handler, handler_id="t.retired")
    rig.bus.publish(EventType.PATIENT_CREATED, {"k": "a"})
    worker = rig.worker()  # planned while the handler was registered...
    rig.bus.unsubscribe(EventType.PATIENT_CREATED, handler)  # ...then it went away
    worker.run(burst=True)
    [letter] = _store(rig).list()
    assert (letter.error_class, letter.handler_id) == ("UnknownHandlerError", "t.retired")
    assert letter.envelope is not None and letter.envelope.payload == {"k": "a"}
