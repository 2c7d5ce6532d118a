"""Load for the worker subprocesses, and the verdict on what their handlers recorded.

:class:`Publisher` publishes numbered events through the real transport; :class:`Feeder`
does it on a thread at a steady rate and always stops when the test ends. The readers below
count what the sample handlers recorded (``sample_modules``) in the Jepsen total-queue
vocabulary: handled, lost, duplicated, unexpected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from tests.transports.redis_streams.harness import envelope, fast_settings
from tests.transports.redis_streams.processes import sample_subscriptions
from transports.redis_streams import RedisStreamsTransport


class Publisher:
    """Publishes numbered events through the real transport, optionally paced."""

    def __init__(self, client: Any, url: str, prefix: str, modules: tuple[str, ...]) -> None:
        self.transport = RedisStreamsTransport(client, fast_settings(prefix, url))
        self.subs = sample_subscriptions(modules)
        self.transport.prepare(self.subs)

    def publish(self, n: int, event_type: str = "patient.created", **extra: Any) -> None:
        subs = [s for s in self.subs if s.pattern in (event_type, "patient.*")]
        self.transport.publish(envelope(event_type, n=n, patient_id=f"p{n}", **extra), subs)

    def paced(
        self, count: int, per_second: float, *, until_finished: bool = False, **extra: Any
    ) -> Feeder:
        """Publish events ``0, 1, ...`` on a thread, ``per_second``; see :class:`Feeder`."""
        return Feeder(self, count, per_second, until_finished, extra)


class Feeder:
    """A thread publishing numbered events at a steady rate; use it as a context manager.

    It publishes ``count`` events, or with ``until_finished`` keeps going past ``count``, at
    ``TRICKLE_PER_S``, until :meth:`finish` (a fault test needs fresh events for as long as its
    faults take). Leaving the ``with`` block stops it (no publishing after the test) and joins
    it, bounded.
    """

    TRICKLE_PER_S = 100.0

    def __init__(
        self,
        publisher: Publisher,
        count: int,
        per_second: float,
        until_finished: bool,
        extra: dict[str, Any],
    ) -> None:
        self.count = count
        self.published = 0
        self._publisher = publisher
        self._per_second = per_second
        self._extra = extra
        self._more = threading.Event()
        self._halt = threading.Event()
        self._error: BaseException | None = None
        if until_finished:
            self._more.set()
        self._thread = threading.Thread(target=self._run, name="feeder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            while not self._halt.is_set() and (self.published < self.count or self._more.is_set()):
                self._publisher.publish(self.published, **self._extra)
                self.published += 1
                if self.published < self.count:
                    delay = started + self.published / self._per_second - time.monotonic()
                else:
                    delay = 1 / self.TRICKLE_PER_S
                if delay > 0:
                    self._halt.wait(delay)
        except BaseException as exc:  # reported by finish()
            self._error = exc

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def finish(self, timeout: float = 120) -> int:
        """Publish up to ``count`` (if not yet), stop, and return how many were published."""
        self._more.clear()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._halt.set()
            raise AssertionError(f"the feeder did not finish within {timeout:.0f} s")
        if self._error is not None:
            raise AssertionError(f"publishing failed: {self._error!r}") from self._error
        return self.published

    def __enter__(self) -> Feeder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._halt.set()
        self._thread.join(30)


def handled(client: Any, prefix: str, handler_id: str) -> dict[str, int]:
    """Event ``n`` -> times ``handler_id`` handled it."""
    return {k.decode(): int(v) for k, v in client.hgetall(f"{prefix}:rec:{handler_id}").items()}


def handled_by(client: Any, prefix: str, worker: str) -> int:
    """How many handlings the worker process named ``worker`` recorded."""
    return int(client.hget(f"{prefix}:by-worker", worker) or 0)


def pending_total(client: Any, prefix: str, handler_ids: Iterable[str]) -> int:
    """Entries pending in the groups of ``handler_ids`` on every event stream under ``prefix``."""
    total = 0
    for stream in client.scan_iter(match=f"{prefix}:stream:*"):
        for group in client.xinfo_groups(stream):
            if group["name"].decode() in set(handler_ids):
                total += int(group["pending"])
    return total


def verdict(client: Any, prefix: str, handler_id: str, expected: int) -> dict[str, int]:
    """Lost / duplicated counts for one handler (Jepsen total-queue vocabulary)."""
    seen = handled(client, prefix, handler_id)
    wanted = {str(n) for n in range(expected)}
    return {
        "handled": len(wanted & set(seen)),
        "lost": len(wanted - set(seen)),
        "duplicates": sum(seen.values()) - len(seen),
        "unexpected": len(set(seen) - wanted),
    }


def report(name: str, results: dict[str, dict[str, int]], **facts: Any) -> None:
    print(f"\n[{name}] {facts} " + "; ".join(f"{h}: {r}" for h, r in results.items()))


def all_handled(client: Any, prefix: str, count: int, handler_ids: tuple[str, ...]) -> bool:
    return all(len(handled(client, prefix, h)) >= count for h in handler_ids)
