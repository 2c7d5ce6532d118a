"""Log lines written under one lock that ``fork()`` never leaves taken in a child.

structlog's ``WriteLogger`` guards each write with a per-file ``threading.Lock`` that nothing
resets after ``os.fork()``. If another thread is writing a line when a process forks (an RQ
worker forks a work horse per job while its heartbeat thread may log), the child starts with
that lock taken and blocks at its first log line until someone kills it: for an RQ job, the
handler's own timeout does not help (its failure is logged too), the worker kills the horse
at job timeout + 60 s. With one thread logging in a loop, 17 of 20 forked children hung so.

:class:`LineWriterFactory` (the app's structlog logger factory) writes through
:class:`LineWriter` under one process-wide lock that is taken before every fork
(``os.register_at_fork``) and released after it in the parent; the child gets a fresh lock.
So a fork waits for the line being written, and no child inherits a held lock. The app's root
logging handler takes the same lock (:func:`write_lock`), so the stream it shares with
structlog is never mid-write at a fork either.
"""

from __future__ import annotations

import os
import threading
from typing import Any, TextIO

__all__ = ["LineWriter", "LineWriterFactory", "write_lock"]

_locks = [threading.RLock()]  # one: replaced (not released) in a forked child


def write_lock() -> threading.RLock:
    """The lock every app log write holds (the current one: a forked child has its own)."""
    return _locks[0]


def _before_fork() -> None:
    _locks[0].acquire()


def _after_fork_in_parent() -> None:
    _locks[0].release()


def _after_fork_in_child() -> None:
    _locks[0] = threading.RLock()  # the one held across the fork belongs to the parent's thread


os.register_at_fork(
    before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child
)


class LineWriter:
    """structlog's final logger: each rendered event as one line on ``file``, under the lock."""

    def __init__(self, file: TextIO) -> None:
        self._file = file

    def msg(self, message: str) -> None:
        """Write ``message`` and a newline, then flush."""
        with write_lock():
            self._file.write(message + "\n")
            self._file.flush()

    log = debug = info = warn = warning = err = error = critical = exception = fatal = msg
    failure = msg


class LineWriterFactory:
    """``logger_factory`` for ``structlog.configure``: one :class:`LineWriter` on ``file``."""

    def __init__(self, file: TextIO) -> None:
        self._writer = LineWriter(file)

    def __call__(self, *args: Any) -> LineWriter:
        return self._writer
