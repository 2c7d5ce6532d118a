"""One bytes->str rule and one stream-id parser for both Redis transports."""

from __future__ import annotations

import pytest

from transports.redis_common import id_ms, is_stream_id, next_id, parse_id, text


def test_text_decodes_bytes_and_never_raises_on_bad_utf8() -> None:
    assert [text(b"abc"), text("abc"), text(7), text(b"\xff\xfeok")] == [
        "abc",
        "abc",
        "7",
        "\ufffd\ufffdok",
    ]


def test_stream_ids_parse_order_and_step() -> None:
    assert parse_id(b"1700000000000-5") == (1700000000000, 5)
    assert parse_id("12") == (12, 0)
    assert sorted(["10-1", "9-9", "10-0"], key=parse_id) == ["9-9", "10-0", "10-1"]
    assert (id_ms(b"42-3"), next_id(b"42-3"), next_id("42")) == (42, "42-4", "42-1")


@pytest.mark.parametrize("bad", ["", "-", "1-", "a-1", "1-2-3", "1 -2", "1" * 21])
def test_a_value_that_is_not_a_stream_id_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a stream id"):
        parse_id(bad)
    assert not is_stream_id(bad)


def test_is_stream_id_wants_both_parts() -> None:
    assert is_stream_id("1-0") and not is_stream_id("1")
