"""The stamps an envelope carries besides its payload: a unique id, the time it was built,
and the W3C trace context of the span that published it (kept only when well-formed)."""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["new_event_id", "trace_context", "utc_timestamp"]

_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
_TRACESTATE = re.compile(r"[\x20-\x7e]{1,512}")


def new_event_id() -> str:
    """A new unique id: 32 hex characters, this process's random prefix then a counter.

    Unique, not secret: the first 16 characters are 64 random bits drawn once per process
    (again in a forked child, before it runs anything), the last 16 count this process's ids
    from 0, so two ids collide only if two processes draw the same prefix (about one chance
    in 30 million among a million processes). Nothing may rely on an id being unguessable
    (nor on the request ids ``extension`` makes with it). Thread-safe: ``next`` of a counter
    is one C call. About 0.1 µs, against 0.3 µs for ``os.urandom(16).hex()`` (a system call,
    which callgrind does not count: it counts ~0.5k more instructions here, for less time).
    """
    return next(_counter).to_bytes(16, "big").hex()


_counter: Iterator[int] = iter(())
"""This process's ids as numbers: its prefix shifted left 64 bits, plus 0, 1, 2..."""


def _start_counter() -> None:
    """Draw this process's prefix and count from 0 (at import, and in a forked child)."""
    global _counter  # noqa: PLW0603  (the process's id counter, replaced whole)
    _counter = itertools.count(int.from_bytes(os.urandom(8), "big") << 64)


_start_counter()
os.register_at_fork(after_in_child=_start_counter)


_second: tuple[int, str] = (-1, "")
"""The last whole second :func:`utc_timestamp` formatted, and its text (replaced whole)."""
_DIGITS = tuple(f"{n:03d}" for n in range(1000))
"""``"000"`` to ``"999"``: the microseconds are written as two of these."""


def utc_timestamp() -> str:
    """The current time as an RFC 3339 UTC timestamp with microseconds
    (``2026-12-01T09:00:00.123456Z``).

    The date and seconds are formatted once per second and kept; the microseconds are two
    look-ups in :data:`_DIGITS` (about half the cost of a ``06d`` format, a fifth of
    ``datetime.isoformat``), joined in one f-string (no intermediate strings, as ``+``
    makes). Thread-safe: the kept pair is replaced whole.
    """
    global _second  # noqa: PLW0603  (a one-entry cache of this function's)
    micros = time.time_ns() // 1000
    seconds = micros // 1_000_000
    kept = _second
    if kept[0] != seconds:
        kept = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds)))
        _second = kept
    return f"{kept[1]}{_DIGITS[micros // 1000 % 1000]}{_DIGITS[micros % 1000]}Z"


def trace_context(traceparent: Any, tracestate: Any) -> dict[str, str | None]:
    """The trace context fields worth keeping: a well-formed W3C ``traceparent`` and a
    ``tracestate`` of at most 512 printable characters. Anything else is dropped, never an
    error: a bad trace context must not make an event undeliverable."""
    if not isinstance(traceparent, str) or not _TRACEPARENT.fullmatch(traceparent):
        return {}
    state = (
        tracestate if isinstance(tracestate, str) and _TRACESTATE.fullmatch(tracestate) else None
    )
    return {"traceparent": traceparent, "tracestate": state}
