"""The consumer loop of one handler's group, for one consumer name, on one thread.

Loop: (1) after a start, a reconnect or a lost reply, take back this consumer's own pending
entries (stable names make a restarted worker drain its own pending list first); (2) retry
failed entries whose backoff is over; (3) every ``claim_interval_s``, claim entries idle longer
than ``EVENTBUS_CLAIM_IDLE_MS`` from dead consumers (``XAUTOCLAIM``); (4) one pipelined round
trip that acknowledges the entries handled since the last one and reads the next batch of new
entries (``XREADGROUP COUNT BLOCK ... >``) across all the handler's streams; handle them.

Failed entries stay pending and wait in a local schedule, so one failing event never blocks
the others. Before the handler of an entry that is not fresh (re-taken, claimed, retried) runs,
the buffered acknowledgements are sent: it may be the entry that killed the previous worker,
and the entries handled before it must not be delivered again each time it does so.
A Redis error leaves the acknowledgements buffered, backs off and recovers; a vanished group
(``NOGROUP``: Redis lost its data) is recreated at ``0`` and logged (``reconnect``).
``stop`` is honoured between two handlers and during every wait: the running handler
finishes, the buffered acknowledgements are sent, and ``run`` returns; entries read but not
started stay pending for this consumer name.

In ``burst`` mode ``run`` returns once nothing is left to do: own pending entries, due
retries, claimable entries, and the new entries each stream held when the run started
(``backlog``), so it ends even when handlers feed their own streams; after
``reconnect_attempts`` consecutive Redis failures it raises ``TransportError``. Burst reads
never block (``BLOCK 0`` would wait forever); others block at most ``EVENTBUS_BLOCK_MS``.
"""

from __future__ import annotations

import heapq
import threading
import time
from typing import Any

from app.log import get_logger

from ..redis_common import REDIS_ERRORS
from .backlog import BurstBacklog
from .claim import autoclaim, own_pending, reacquire
from .delivery import EntryDelivery, Outcome
from .groups import ensure_group
from .keys import hash_tag
from .reconnect import BURST_RECONNECT_ATTEMPTS, RedisErrors, is_missing_group

__all__ = ["BURST_RECONNECT_ATTEMPTS", "GroupConsumer"]


class GroupConsumer:
    """Consumes ``streams`` as ``delivery.consumer`` in ``delivery.handler_id``'s group."""

    def __init__(self, delivery: EntryDelivery, streams: tuple[str, ...]) -> None:
        self.delivery = delivery
        self.client = delivery.client
        self.settings = delivery.settings
        self.group = delivery.handler_id
        self.consumer = delivery.consumer
        self.streams = streams
        self.handled = 0
        self._names = {stream.encode(): stream for stream in streams}
        self._read_ids = dict.fromkeys(streams, ">")
        self._acks: dict[str, list[bytes]] = {}
        self._retries: list[tuple[float, int, str, bytes, float]] = []
        self._scheduled: set[tuple[str, bytes]] = set()
        self._sequence = 0
        self._next_claim = 0.0
        self._claimed_last = 0
        self._recover = True
        self._missing_group = False
        self._backlog: BurstBacklog | None = None
        self._log: Any = get_logger("eventbus.streams")

    @property
    def read_set_label(self) -> str:
        """``""``, or ``"-{<event type>}"`` when this consumer reads one slot's streams."""
        tag = hash_tag(self.streams[0]) if self.streams else None
        return f"-{{{tag}}}" if tag else ""

    def run(
        self,
        stop: threading.Event,
        burst: bool = False,
        *,
        reconnect_attempts: int = BURST_RECONNECT_ATTEMPTS,
    ) -> None:
        """Consume until ``stop`` is set (or, in ``burst`` mode, until idle; see above)."""
        errors = RedisErrors(
            self._log,
            subject=f"handler {self.group}",
            redis_url=self.settings.redis_url,
            give_up_after=reconnect_attempts if burst else None,
            handler_id=self.group,
            consumer=self.consumer,
        )
        self.delivery.bind_handler()
        self._backlog = BurstBacklog(self.streams) if burst else None
        try:
            while not stop.is_set():
                try:
                    if self._backlog is not None and not self._backlog.taken:
                        self._backlog.take_snapshot(self.client)
                    if self._missing_group:
                        self._recreate_groups()
                    if self._recover:
                        self._recover_own(stop)
                        self._recover = False
                    self._run_due_retries(stop)
                    if time.monotonic() >= self._next_claim:
                        self._claim(stop)
                    read = self._read(stop)
                    errors.succeeded()
                    if burst and not read:
                        if self._idle():
                            break
                        self._wait_in_burst(stop)
                except Exception as exc:  # any Redis call's failure, whatever its type
                    errors.failed(exc, stop)  # backs off, or gives up by raising
                    if is_missing_group(exc):
                        self._missing_group = True
                    else:
                        self._recover = True
        finally:
            self._flush_acks()
            self.delivery.unbind_handler()

    def _read(self, stop: threading.Event) -> int:
        """Send the buffered acks and read (then handle) the next batch, in one round trip."""
        backlog = self._backlog
        streams = self._read_ids if backlog is None else backlog.read_ids()
        if not streams:  # a burst run read its whole backlog
            if any(self._acks.values()):
                self._send_acks()
            return 0
        pipe = self._acks_pipeline()
        pipe.xreadgroup(
            self.group,
            self.consumer,
            streams,
            count=self.settings.batch_size,
            block=None if backlog is not None else self._block_ms(),  # burst: never blocks
        )
        reply = pipe.execute()[-1]
        self._acks = {}
        if backlog is not None:
            backlog.update(reply, self._names)
        if not reply:
            return 0
        with self.delivery.batch():
            return self._handle_reply(reply, stop, time.monotonic())

    def _handle_reply(self, reply: Any, stop: threading.Event, acquired: float) -> int:
        count = 0
        handle = self.delivery.handle
        ack = Outcome.ACK
        for raw_stream, entries in reply:
            stream = self._names.get(raw_stream) or raw_stream.decode()
            acks = self._acks.setdefault(stream, [])
            for entry_id, fields in entries:
                if stop.is_set():
                    return count or 1
                count += 1
                outcome = handle(stream, entry_id, fields)
                if outcome is ack:  # the hot path, inlined
                    acks.append(entry_id)
                    self.handled += 1
                else:
                    self._after(outcome, stream, entry_id, 1, acquired)
        return count

    def _after(
        self, outcome: Outcome, stream: str, entry_id: bytes, deliveries: int, acquired: float
    ) -> None:
        if outcome is Outcome.ACK:
            self._acks.setdefault(stream, []).append(entry_id)
            self.handled += 1
        elif outcome is Outcome.RETRY:
            due = time.monotonic() + self.settings.retry_delay_s(deliveries)
            self._sequence += 1
            heapq.heappush(self._retries, (due, self._sequence, stream, entry_id, acquired))
            self._scheduled.add((stream, entry_id))

    def _take(self, stream: str, entry_id: bytes, acquired: float) -> None:
        """Bump, fetch and handle one pending entry of ours (see ``claim``)."""
        if any(self._acks.values()):
            self._send_acks()  # this entry may be a process killer: settle the others first
        held_ms = (time.monotonic() - acquired) * 1000
        min_idle = max(0, int(held_ms - self.settings.claim_idle_ms / 2))
        found = reacquire(
            self.client, stream, self.group, self.consumer, entry_id, min_idle_ms=min_idle
        )
        if found.state == "claimed":
            outcome = self.delivery.handle(stream, entry_id, found.fields, found.deliveries)
            self._after(outcome, stream, entry_id, found.deliveries, time.monotonic())
        elif found.state == "deleted":
            self.delivery.handle(stream, entry_id, {}, found.deliveries)

    def _run_due_retries(self, stop: threading.Event) -> None:
        while self._retries and self._retries[0][0] <= time.monotonic() and not stop.is_set():
            _, _, stream, entry_id, acquired = heapq.heappop(self._retries)
            self._scheduled.discard((stream, entry_id))
            self._take(stream, entry_id, acquired)

    def _recover_own(self, stop: threading.Event) -> None:
        buffered = {(stream, entry_id) for stream, ids in self._acks.items() for entry_id in ids}
        for stream in self.streams:
            mine = list(own_pending(self.client, stream, self.group, self.consumer))
            now = time.monotonic()
            for entry_id, idle_ms in mine:
                if stop.is_set():
                    return
                if (stream, entry_id) in self._scheduled or (stream, entry_id) in buffered:
                    continue
                self._take(stream, entry_id, now - idle_ms / 1000)

    def _claim(self, stop: threading.Event) -> None:
        self._next_claim = time.monotonic() + self.settings.claim_interval_s
        self._claimed_last = 0
        for stream in self.streams:
            claimed, deleted = autoclaim(
                self.client,
                stream,
                self.group,
                self.consumer,
                min_idle_ms=self.settings.claim_idle_ms,
                count=self.settings.batch_size,
            )
            if claimed or deleted:
                counts = {"claimed": len(claimed), "deleted": len(deleted)}
                self._log.info("entries.claimed", handler_id=self.group, stream=stream, **counts)
            backlog, taken = self._backlog, (*claimed, *deleted)  # burst: only its backlog counts
            self._claimed_last += sum(backlog is None or backlog.holds(stream, i) for i in taken)
            for entry_id in deleted:
                self.delivery.handle(stream, entry_id, {}, 0)
            acquired = time.monotonic()
            for entry_id in claimed:
                if stop.is_set():
                    return
                self._take(stream, entry_id, acquired)

    def _idle(self) -> bool:
        return not (self._retries or self._claimed_last or self._recover or self._missing_group)

    def _wait_in_burst(self, stop: threading.Event) -> None:
        if self._claimed_last:
            self._next_claim = 0.0  # more may be claimable: look again at once
        elif self._retries:
            stop.wait(min(0.05, max(0.0, self._retries[0][0] - time.monotonic())))

    def _block_ms(self) -> int:
        wake = self._next_claim
        if self._retries:
            wake = min(wake, self._retries[0][0])
        until = int((wake - time.monotonic()) * 1000)
        return max(1, min(self.settings.block_ms, until))

    def _acks_pipeline(self) -> Any:
        pipe = self.client.pipeline(transaction=False)
        for stream, ids in self._acks.items():
            if ids:
                pipe.xack(stream, self.group, *ids)
        return pipe

    def _send_acks(self) -> None:
        """Acknowledge the buffered entries now (one round trip); Redis errors propagate."""
        self._acks_pipeline().execute()
        self._acks = {}

    def _flush_acks(self) -> None:
        """On the way out: send the buffered acknowledgements, or log how many were lost."""
        if not any(self._acks.values()):
            return
        try:
            self._send_acks()
        except REDIS_ERRORS as exc:
            lost = sum(len(ids) for ids in self._acks.values())  # they will be delivered again
            error = f"{type(exc).__name__}: {exc}"[:300]
            self._log.error("acks.lost_on_stop", handler_id=self.group, count=lost, error=error)

    def _recreate_groups(self) -> None:
        for stream in self.streams:
            if ensure_group(self.client, stream, self.group):
                self._log.warning(
                    "group.recreated",
                    handler_id=self.group,
                    stream=stream,
                    start="0",
                    reason="the consumer group was missing (Redis lost its data?)",
                )
        self._retries.clear()
        self._scheduled.clear()
        self._acks = {}
        self._recover = False
        self._missing_group = False
        if self._backlog is not None:
            self._backlog.reopen()
