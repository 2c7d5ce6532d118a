"""The worker's threads: daemon threads sharing one stop flag, joined within a bounded time.

:class:`WorkerThreads` starts *consumer* threads (their function returns when they are done)
and *service* threads (they run until the stop flag is set). The flag is set by ``stop()``
(from any thread or a signal handler), by a thread that dies of an exception (the crash is
kept, so the whole worker stops rather than running half alive) or, in burst mode, when the
last consumer returns. :meth:`WorkerThreads.wait` blocks until the flag is set, then joins for
at most ``stop_timeout`` seconds: threads still running then (a handler that never returns)
are abandoned, which daemon threads allow, and :class:`WorkerStuckError` names them.

Thread safety: every method may be called from any thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from app.core.events.exceptions import EventBusError, TransportError

__all__ = ["DEFAULT_STOP_TIMEOUT_S", "WorkerCrashedError", "WorkerStuckError", "WorkerThreads"]

DEFAULT_STOP_TIMEOUT_S = 30.0
"""How long a worker waits for running handlers after a stop before it abandons them."""


class WorkerCrashedError(EventBusError):
    """A consumer thread died of an unexpected error (or gave up on Redis); the worker stopped."""


class WorkerStuckError(WorkerCrashedError):
    """After a stop, a thread was still running when the stop timeout ran out; it was abandoned."""


class WorkerThreads:
    """Daemon threads with one stop flag; see the module docstring."""

    def __init__(self, log: Any, *, burst: bool = False) -> None:
        self.stop_flag = threading.Event()
        self.burst = burst
        self._log = log
        self._threads: list[threading.Thread] = []
        self._consuming = 0
        self._crash: BaseException | None = None
        self._lock = threading.Lock()

    def start(
        self,
        consumers: Sequence[tuple[str, Callable[[], None]]],
        services: Sequence[tuple[str, Callable[[], None]]] = (),
    ) -> None:
        """Run each ``(name, function)`` on a daemon thread.

        A consumer returns when it is done (in burst mode the last one to return sets the
        stop flag); a service returns once the stop flag is set.
        """
        with self._lock:
            self._consuming += len(consumers)  # all counted before any can finish
        for name, target in consumers:
            self._start(name, target, consumer=True)
        for name, target in services:
            self._start(name, target, consumer=False)
        if self.burst and not consumers:
            self.stop()  # nothing to wait for

    def stop(self) -> None:
        """Set the stop flag; returns at once."""
        self.stop_flag.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for every thread to end; ``True`` if they all did within ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in list(self._threads):
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(remaining)
        return not self.running()

    def running(self) -> list[str]:
        """The names of the threads still running."""
        return sorted(thread.name for thread in self._threads if thread.is_alive())

    def wait(self, stop_timeout: float) -> None:
        """Block until the stop flag is set, then join the threads for at most ``stop_timeout``.

        Raises :class:`WorkerStuckError` if some still run then, :class:`WorkerCrashedError`
        if one died of an exception. An exception in the waiting thread (``KeyboardInterrupt``)
        stops and joins the same way before it propagates.
        """
        try:
            while not self.stop_flag.wait(0.5):
                pass
        finally:
            self.stop()
            joined = self.join(stop_timeout)
        if not joined:
            stuck = self.running()
            self._log.error("worker.stop_timed_out", threads=stuck, timeout_s=stop_timeout)
            raise WorkerStuckError(
                f"{len(stuck)} thread(s) still running {stop_timeout:g} s after the stop "
                f"(a handler that does not return?): {', '.join(stuck)}"
            )
        if isinstance(self._crash, TransportError):  # a burst consumer gave up on Redis
            raise WorkerCrashedError(str(self._crash)) from self._crash
        if self._crash is not None:
            raise WorkerCrashedError(f"a consumer thread died: {self._crash!r}") from self._crash

    def _start(self, name: str, target: Callable[[], None], *, consumer: bool) -> None:
        thread = threading.Thread(
            target=self._guarded, args=(target, consumer), name=name, daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _guarded(self, target: Callable[[], None], consumer: bool) -> None:
        try:
            target()
        except TransportError as exc:  # already logged by the consumer that gave up
            self._crash = self._crash or exc
            self.stop()
        except BaseException as exc:
            self._crash = exc
            event = "consumer.crashed" if consumer else "thread.crashed"
            self._log.critical(event, thread=threading.current_thread().name, exc_info=exc)
            self.stop()
        finally:
            if consumer:
                with self._lock:
                    self._consuming -= 1
                    if self.burst and not self._consuming:
                        self.stop()  # the last burst consumer is done
