"""The relay: moves committed outbox rows to their transports and marks them sent.

Each round claims a batch (see ``app.core.outbox.store``), hands its envelopes to the bus's
remote transports in one call per transport (``EventBus.send_remote_batch``: pipelined),
then marks it sent. While a transport is down the batch is given back and the relay waits,
backing off exponentially; requests keep committing meanwhile, so Redis being down only
delays delivery. A relay that dies between sending and marking leaves its batch to be sent
again: consumers are idempotent. A row that cannot be read back is set aside with its reason
(logged, counted by ``flask events stats``) instead of blocking the rows behind it.

Run it as a thread in the web process (started with the app, see ``app.core.outbox``) or as
``flask events relay``. Any number of relays may run against one database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.core.events import EventBus, TransportError
from app.core.events.exceptions import MalformedEnvelopeError
from app.log import get_logger

from .store import Claim, OutboxStore

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
        """Send one batch; return how many rows it moved (sent or set aside; 0: none due,
        another relay holds the lease, or the send failed)."""
        claim = self.store.claim(self.settings.batch_size)
        if claim is None:
            return 0
        set_aside: list[tuple[int, str]] = []
        try:
            self._send(claim, set_aside)
        except Exception as exc:
            self.store.release(claim)
            self.failures += 1
            self._log.warning(
                "outbox.send_failed",
                events=len(claim.seqs),
                error=f"{type(exc).__name__}: {exc}",
                retry_in_s=round(self.backoff(), 3),
            )
            return 0
        if not self.store.mark_sent(claim, set_aside):
            self._log.warning("outbox.lease_lost", events=len(claim.seqs))
        for seq, reason in set_aside:
            self._log.error("outbox.row_set_aside", seq=seq, reason=reason)
        if self.failures:
            self._log.info("outbox.recovered", after_failures=self.failures)
        self.failures = 0
        return len(claim.seqs)

    def _send(self, claim: Claim, set_aside: list[tuple[int, str]]) -> None:
        """Send ``claim``. When that fails for a reason other than a transport's, look for rows
        whose payload cannot be read: put them in ``set_aside`` and send the others. Raises
        when the send fails otherwise."""
        try:
            self.bus.send_remote_batch(claim.envelopes)
            return
        except TransportError:
            raise
        except Exception:
            unreadable = _unreadable(claim)
            if not unreadable:
                raise
        set_aside.extend(unreadable)
        bad = {seq for seq, _ in unreadable}
        rest = [env for seq, env in zip(claim.seqs, claim.envelopes, strict=True) if seq not in bad]
        if rest:
            self.bus.send_remote_batch(rest)

    def drain(
        self, max_rounds: int = 1_000_000, progress: Callable[[int], None] | None = None
    ) -> int:
        """Send until nothing is due (or a send fails); return how many were sent.

        ``progress`` is called with the running total after each batch.
        """
        total = 0
        for _ in range(max_rounds):
            sent = self.run_once()
            if not sent:
                break
            total += sent
            if progress is not None:
                progress(total)
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
        """Loop until ``stop`` (or :meth:`stop`) is set: send, purge old rows, wait. Gives up
        what the store holds (a SQLite lease) when it ends."""
        stop = stop or self._stop
        purge_every = max(1.0, self.settings.retention_s / 10)
        next_purge = time.monotonic()
        while not stop.is_set():
            try:
                sent = self.drain()
                if time.monotonic() >= next_purge:
                    self.store.purge_sent(timedelta(seconds=self.settings.retention_s))
                    next_purge = time.monotonic() + purge_every
            except Exception as exc:  # the database itself failed: log, back off, go on
                self.failures += 1
                sent = 0
                self._log.error("outbox.relay_failed", error=type(exc).__name__, exc_info=exc)
            if sent:
                continue
            if self.failures:  # commits' wake-ups do not cut a backoff short; stop does
                stop.wait(self.backoff())
                continue
            self._wake.wait(self.settings.poll_interval_s)
            self._wake.clear()
        self.store.close()

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


def _unreadable(claim: Claim) -> list[tuple[int, str]]:
    """The rows of ``claim`` whose payload is not a JSON object, with the reason."""
    found: list[tuple[int, str]] = []
    for seq, envelope in zip(claim.seqs, claim.envelopes, strict=True):
        try:
            envelope.payload  # noqa: B018 (decodes a deferred payload)
        except MalformedEnvelopeError as exc:
            found.append((seq, str(exc)[:500]))
    return found
