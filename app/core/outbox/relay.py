"""The relay: moves committed outbox rows to their transports and marks them sent.

Each round claims a batch (a lease), hands it to the bus's remote transports in one call per
transport (``EventBus.send_remote_batch``: pipelined), then marks it sent. While a transport
is down the batch is released with the error and retried with exponential backoff; requests
keep committing meanwhile, so Redis being down only delays delivery. A crash between sending
and marking lets the lease expire and the batch be sent again: consumers are idempotent.

Run it as a thread in the web process (started with the app, see ``app.core.outbox``) or as
``flask events relay``. Any number of relays may run against one database.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.core.events import EventBus
from app.log import get_logger

from .store import OutboxStore

__all__ = ["OutboxRelay", "RelaySettings"]


@dataclass(frozen=True)
class RelaySettings:
    """How a relay paces itself (from the ``EVENTBUS_OUTBOX_*`` settings)."""

    batch_size: int = 500
    poll_interval_s: float = 1.0
    lease_s: float = 30.0
    retention_s: float = 86_400.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0


class OutboxRelay:
    """Sends outbox rows through ``bus``. ``run_once`` is the unit; ``start`` runs it in a loop."""

    def __init__(
        self, store: OutboxStore, bus: EventBus, settings: RelaySettings, autostart: bool = False
    ) -> None:
        self.store = store
        self.autostart = autostart
        self.bus = bus
        self.settings = settings
        self.failures = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._log: Any = get_logger("eventbus.outbox")

    def run_once(self) -> int:
        """Send one batch; return how many events were sent (0: none due, or a failure)."""
        claim = self.store.claim(self.settings.batch_size, timedelta(seconds=self.settings.lease_s))
        if claim is None:
            return 0
        try:
            self.bus.send_remote_batch(claim.envelopes)
        except Exception as exc:
            self.failures += 1
            retry_in = self.backoff()
            self.store.release(claim, f"{type(exc).__name__}: {exc}", timedelta(seconds=retry_in))
            self._log.warning(
                "outbox.send_failed",
                events=len(claim.seqs),
                error=type(exc).__name__,
                retry_in_s=round(retry_in, 3),
            )
            return 0
        self.store.mark_sent(claim)
        if self.failures:
            self._log.info("outbox.recovered", after_failures=self.failures)
        self.failures = 0
        return len(claim.seqs)

    def drain(self, max_rounds: int = 1_000_000) -> int:
        """Send until nothing is due (or a send fails); return how many were sent."""
        total = 0
        for _ in range(max_rounds):
            sent = self.run_once()
            if not sent:
                break
            total += sent
        return total

    def backoff(self) -> float:
        """Seconds to wait after ``failures`` consecutive failed rounds."""
        if not self.failures:
            return 0.0
        exponent = min(self.failures - 1, 16)
        return float(min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2**exponent))

    def wake(self) -> None:
        """Ask a running loop to look for work now."""
        self._wake.set()

    def notify(self) -> None:
        """A commit wrote rows: start the loop if this relay runs as a thread, and wake it."""
        if self.autostart:
            self.start()
        self._wake.set()

    def run(self, stop: threading.Event | None = None) -> None:
        """Loop until ``stop`` (or :meth:`stop`) is set: send, purge old rows, wait."""
        stop = stop or self._stop
        purge_every = max(1.0, self.settings.retention_s / 10)
        since_purge = purge_every
        while not stop.is_set():
            try:
                sent = self.drain()
                since_purge += self.settings.poll_interval_s
                if since_purge >= purge_every:
                    self.store.purge_sent(timedelta(seconds=self.settings.retention_s))
                    since_purge = 0.0
            except Exception as exc:  # the database itself failed: log, back off, go on
                self.failures += 1
                sent = 0
                self._log.error("outbox.relay_failed", error=type(exc).__name__, exc_info=exc)
            if sent:
                continue
            self._wake.wait(self.backoff() or self.settings.poll_interval_s)
            self._wake.clear()

    def start(self) -> None:
        """Run the loop in a daemon thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="eventbus-outbox-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop after its current batch and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        """Whether the loop thread is alive."""
        return self._thread is not None and self._thread.is_alive()
