"""Retention never deletes what a group has not acknowledged, and counts what it trims."""

from __future__ import annotations

import time
from typing import Any, cast

from tests.transports.redis_streams.harness import envelope
from transports.redis_common import RedisClient
from transports.redis_streams import (
    StreamKeys,
    delete_idle_consumers,
    next_id,
    safe_trim_id,
    trim_stream,
)


def _fill(client: Any, stream: str, count: int) -> list[bytes]:
    pipe = client.pipeline(transaction=False)
    for n in range(count):
        pipe.xadd(stream, envelope(n=n).to_fields())
    return list(pipe.execute())


def _read(client: Any, stream: str, group: str, count: int, ack: bool) -> list[bytes]:
    reply = client.xreadgroup(group, f"{group}:0", {stream: ">"}, count=count)
    ids = [entry_id for entry_id, _ in reply[0][1]] if reply else []
    if ack and ids:
        client.xack(stream, group, *ids)
    return ids


def _now_ms(client: Any) -> int:
    seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000


def test_trimming_keeps_every_entry_a_group_still_needs(any_redis: Any, key_prefix: str) -> None:
    keys = StreamKeys(key_prefix)
    stream = keys.stream("patient.created")
    ids = _fill(any_redis, stream, 1000)
    for group in ("fast", "slow"):
        any_redis.xgroup_create(stream, group, id="0")
    _read(any_redis, stream, "fast", 1000, ack=True)
    assert (
        trim_stream(any_redis, keys, stream, maxlen=100, max_age_ms=None, now_ms=_now_ms(any_redis))
        == 0
    )
    assert any_redis.xlen(stream) == 1000, "slow has read nothing: nothing may go"

    _read(any_redis, stream, "slow", 600, ack=True)
    pending = _read(any_redis, stream, "slow", 100, ack=False)  # delivered, not acknowledged
    assert safe_trim_id(any_redis, stream) == pending[0].decode()
    removed = trim_stream(
        any_redis, keys, stream, maxlen=100, max_age_ms=None, now_ms=_now_ms(any_redis)
    )
    assert 0 < removed <= 600
    remaining = {entry_id for entry_id, _ in any_redis.xrange(stream)}
    assert set(ids[600:]) <= remaining, "nothing pending or unread was trimmed"
    assert int(any_redis.hget(keys.trimmed, stream)) == removed == 1000 - len(remaining)


def test_maxlen_limits_trimming_to_the_excess(any_redis: Any, key_prefix: str) -> None:
    keys = StreamKeys(key_prefix)
    stream = keys.stream("patient.created")
    _fill(any_redis, stream, 1000)
    any_redis.xgroup_create(stream, "g", id="$")  # everything before counts as acknowledged
    trim_stream(any_redis, keys, stream, maxlen=700, max_age_ms=None, now_ms=_now_ms(any_redis))
    assert 700 <= any_redis.xlen(stream) < 1000


def test_age_trimming_also_stops_at_unacknowledged_entries(any_redis: Any, key_prefix: str) -> None:
    keys = StreamKeys(key_prefix)
    stream = keys.stream("patient.created")
    _fill(any_redis, stream, 300)
    any_redis.xgroup_create(stream, "g", id="0")
    _read(any_redis, stream, "g", 200, ack=True)
    time.sleep(0.02)
    removed = trim_stream(
        any_redis, keys, stream, maxlen=None, max_age_ms=1, now_ms=_now_ms(any_redis)
    )
    assert removed <= 200 and any_redis.xlen(stream) >= 100


def test_a_missing_stream_trims_nothing(any_redis: Any, key_prefix: str) -> None:
    keys = StreamKeys(key_prefix)
    assert trim_stream(any_redis, keys, keys.stream("x.y"), maxlen=1, max_age_ms=1, now_ms=0) == 0


def test_only_idle_consumers_without_pending_entries_are_deleted(
    any_redis: Any, key_prefix: str
) -> None:
    stream = StreamKeys(key_prefix).stream("patient.created")
    _fill(any_redis, stream, 3)
    any_redis.xgroup_create(stream, "g", id="0")
    any_redis.xreadgroup("g", "holder", {stream: ">"}, count=1)
    any_redis.xreadgroup("g", "idle", {stream: ">"}, count=1)
    any_redis.xack(stream, "g", any_redis.xpending(stream, "g")["max"])
    any_redis.xgroup_createconsumer(stream, "g", "me")
    time.sleep(0.05)
    assert delete_idle_consumers(any_redis, stream, "g", 20, keep={"me"}) == ["idle"]
    names = {c["name"] for c in any_redis.xinfo_consumers(stream, "g")}
    assert names == {b"holder", b"me"}


def test_the_safe_id_when_pending_entries_were_acknowledged_between_two_reads(
    any_redis: Any, key_prefix: str
) -> None:
    stream = StreamKeys(key_prefix).stream("patient.created")
    ids = _fill(any_redis, stream, 3)
    any_redis.xgroup_create(stream, "g", id="0")
    _read(any_redis, stream, "g", 3, ack=False)
    groups_while_pending = any_redis.xinfo_groups(stream)
    any_redis.xack(stream, "g", *ids)  # a consumer acknowledged them right after XINFO GROUPS

    class Stale:
        def __getattr__(self, name: str) -> Any:
            return getattr(any_redis, name)

        def xinfo_groups(self, key: str) -> Any:
            return groups_while_pending

    assert safe_trim_id(cast(RedisClient, Stale()), stream) == next_id(ids[-1])
