"""Claiming and re-taking pending entries, on Redis 7.0 (shared) and 6.2 (private)."""

from __future__ import annotations

import time
from typing import Any

from tests.transports.redis_streams.harness import envelope
from transports.redis_streams import (
    autoclaim,
    id_ms,
    next_id,
    own_pending,
    parse_autoclaim,
    reacquire,
)


def _stream_with_pending(
    client: Any, prefix: str, count: int, owner: str = "dead:0"
) -> tuple[str, list[bytes]]:
    stream = f"{prefix}:stream:patient.created"
    for n in range(count):
        client.xadd(stream, envelope(n=n).to_fields())
    client.xgroup_create(stream, "g", id="0")
    reply = client.xreadgroup("g", owner, {stream: ">"}, count=count)
    return stream, [entry_id for entry_id, _ in reply[0][1]]


def _deliveries(client: Any, stream: str, entry_id: bytes) -> tuple[int, bytes]:
    [row] = client.xpending_range(stream, "g", entry_id, entry_id, 1)
    return int(row["times_delivered"]), row["consumer"]


def test_parse_autoclaim_accepts_both_reply_shapes() -> None:
    assert parse_autoclaim([b"0-0", [b"1-1", None]]) == (b"0-0", [b"1-1"], [])
    assert parse_autoclaim([b"5-0", [b"1-1"], [b"1-0"]]) == (b"5-0", [b"1-1"], [b"1-0"])


def test_id_helpers() -> None:
    assert id_ms(b"1700000000000-3") == 1700000000000
    assert next_id(b"17-3") == "17-4"
    assert next_id("17") == "17-1"


def test_autoclaim_moves_idle_entries_without_counting_a_delivery(
    any_redis: Any, key_prefix: str
) -> None:
    stream, ids = _stream_with_pending(any_redis, key_prefix, 5)
    time.sleep(0.05)
    claimed, deleted = autoclaim(any_redis, stream, "g", "alive:0", min_idle_ms=20, count=10)
    assert claimed == ids and deleted == []
    assert all(_deliveries(any_redis, stream, i) == (1, b"alive:0") for i in ids)
    assert autoclaim(any_redis, stream, "g", "x:0", min_idle_ms=60_000, count=10) == ([], [])


def test_autoclaim_of_a_deleted_entry_is_reported_or_claimed(
    any_redis: Any, key_prefix: str
) -> None:
    stream, ids = _stream_with_pending(any_redis, key_prefix, 3)
    any_redis.xdel(stream, ids[1])
    time.sleep(0.05)
    claimed, deleted = autoclaim(any_redis, stream, "g", "alive:0", min_idle_ms=20, count=10)
    if deleted:  # Redis 7.0+: reported and dropped from the pending list
        assert deleted == [ids[1]] and claimed == [ids[0], ids[2]]
    else:  # 6.2: claimed like the others; reacquire finds the body gone
        assert claimed == ids
        assert (
            reacquire(any_redis, stream, "g", "alive:0", ids[1], min_idle_ms=0).state == "deleted"
        )


def test_reacquire_bumps_the_count_and_returns_the_body(any_redis: Any, key_prefix: str) -> None:
    stream, ids = _stream_with_pending(any_redis, key_prefix, 1, owner="me:0")
    found = reacquire(any_redis, stream, "g", "me:0", ids[0], min_idle_ms=0)
    assert found.state == "claimed" and found.deliveries == 2
    assert found.fields[b"type"] == b"patient.created"
    assert _deliveries(any_redis, stream, ids[0]) == (2, b"me:0")


def test_reacquire_leaves_an_entry_another_consumer_took_meanwhile(
    any_redis: Any, key_prefix: str
) -> None:
    stream, ids = _stream_with_pending(any_redis, key_prefix, 1, owner="me:0")
    time.sleep(0.1)
    any_redis.xclaim(stream, "g", "other:0", 50, ids)  # the other consumer claims it
    assert reacquire(any_redis, stream, "g", "me:0", ids[0], min_idle_ms=60_000).state == "gone"
    assert _deliveries(any_redis, stream, ids[0]) == (2, b"other:0")


def test_reacquire_of_an_acknowledged_or_deleted_entry(any_redis: Any, key_prefix: str) -> None:
    stream, ids = _stream_with_pending(any_redis, key_prefix, 2, owner="me:0")
    any_redis.xack(stream, "g", ids[0])
    assert reacquire(any_redis, stream, "g", "me:0", ids[0], min_idle_ms=0).state == "gone"
    any_redis.xdel(stream, ids[1])
    found = reacquire(any_redis, stream, "g", "me:0", ids[1], min_idle_ms=0)
    assert found.state == "deleted" and found.deliveries == 1


def test_own_pending_pages_through_one_consumer_only(any_redis: Any, key_prefix: str) -> None:
    stream, ids = _stream_with_pending(any_redis, key_prefix, 7, owner="me:0")
    any_redis.xclaim(stream, "g", "other:0", 0, ids[:2])
    mine = [entry_id for entry_id, _ in own_pending(any_redis, stream, "g", "me:0", page=2)]
    assert mine == ids[2:]
