"""What one burst run reads: the backlog each stream had when the run started, and no more.

A burst consumer that read new entries "until a read returns nothing" would never stop while
handlers publish events of the types they consume (each handled entry adds one), so a burst
run is bounded instead: :meth:`BurstBacklog.take_snapshot` notes each stream's last entry id
at the start, and a stream is no longer read once a read reached that id (the rest of that
batch is still handled) or returned nothing for it; likewise only claimed entries of the
backlog make the consumer look for more to claim at once. Events published during the run
wait for the next one; :func:`transports.redis_streams.drain` runs rounds until one handles
nothing.

Thread safety: one instance per consumer thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..redis_common import RedisClient, parse_id

__all__ = ["BurstBacklog"]


class BurstBacklog:
    """The streams a burst consumer still reads, and the last id it reads each of them to."""

    def __init__(self, streams: Iterable[str]) -> None:
        self.streams = tuple(streams)
        self._ends: dict[str, tuple[int, int]] | None = None
        self._open: dict[str, str] = {}

    @property
    def taken(self) -> bool:
        """Whether :meth:`take_snapshot` ran (it is retried after a Redis error)."""
        return self._ends is not None

    def take_snapshot(self, client: RedisClient) -> None:
        """Note every stream's last entry id now (one round trip); empty streams are done."""
        pipe = client.pipeline(transaction=False)
        for stream in self.streams:
            pipe.xrevrange(stream, count=1)
        replies = pipe.execute()
        self._ends = {
            stream: parse_id(rows[0][0])
            for stream, rows in zip(self.streams, replies, strict=True)
            if rows
        }
        self.reopen()

    def reopen(self) -> None:
        """Read every non-empty stream again up to its end (its group was recreated at 0)."""
        self._open = dict.fromkeys(self._ends or (), ">")

    def read_ids(self) -> Mapping[str, str]:
        """The ``XREADGROUP`` streams argument for the streams still to read (may be empty)."""
        return self._open

    def holds(self, stream: str, entry_id: bytes | str) -> bool:
        """Whether ``entry_id`` was in ``stream`` when the run started (claims use this)."""
        end = (self._ends or {}).get(stream)
        return end is not None and parse_id(entry_id) <= end

    def update(self, reply: Any, names: Mapping[bytes, str]) -> None:
        """Close the streams this read reached the end of, or found nothing new on."""
        reached: dict[str, bytes] = {}
        for raw_stream, entries in reply or ():
            if entries:
                stream = names.get(raw_stream) or raw_stream.decode()
                reached[stream] = entries[-1][0]
        ends = self._ends or {}
        for stream in list(self._open):
            last = reached.get(stream)
            if last is None or parse_id(last) >= ends[stream]:
                del self._open[stream]
