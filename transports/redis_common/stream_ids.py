"""Redis stream entry ids (``<milliseconds>-<sequence>``): parsing, ordering, the next id.

Every function accepts the id as Redis returns it (``bytes``) or as text, and a bare
``<milliseconds>`` (sequence 0), which ``XADD``/``XRANGE`` also accept. A value that is not a
stream id raises :class:`ValueError`; :func:`is_stream_id` checks without raising (for ids
taken from user input or from dead-letter records).
"""

from __future__ import annotations

import re

__all__ = ["id_ms", "is_stream_id", "next_id", "parse_id"]

_STREAM_ID = re.compile(r"\d{1,20}(?:-\d{1,20})?")


def parse_id(entry_id: bytes | str) -> tuple[int, int]:
    """``(milliseconds, sequence)`` of ``entry_id``: tuples order as Redis orders the ids."""
    value = entry_id.decode("ascii", errors="replace") if isinstance(entry_id, bytes) else entry_id
    if not _STREAM_ID.fullmatch(value):
        raise ValueError(f"not a stream id: {value[:50]!r}")
    ms, _, seq = value.partition("-")
    return int(ms), int(seq or 0)


def id_ms(entry_id: bytes | str) -> int:
    """The millisecond timestamp part of a stream id."""
    return parse_id(entry_id)[0]


def next_id(entry_id: bytes | str) -> str:
    """The smallest id after ``entry_id`` (``XTRIM MINID`` keeps ids >= it)."""
    ms, seq = parse_id(entry_id)
    return f"{ms}-{seq + 1}"


def is_stream_id(value: str) -> bool:
    """Whether ``value`` is a full ``<ms>-<seq>`` stream id."""
    return "-" in value and _STREAM_ID.fullmatch(value) is not None
