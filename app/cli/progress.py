"""Feedback for long commands: periodic counts on a terminal, nothing extra elsewhere.

``with counting("handled", lambda: worker.handled):`` rewrites one line of stderr every
``interval`` seconds (``handled: 1,234 (3 s)``) while the block runs, then clears it, when
stderr is a terminal; off a terminal (a log file, CI, a pipe) it writes nothing, so output
stays one line per fact. Each command prints its own final summary line, always.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["counting"]


@contextmanager
def counting(
    label: str,
    count: Callable[[], int] | None = None,
    *,
    total: int | None = None,
    interval: float = 0.5,
    stream: TextIO | None = None,
) -> Iterator[None]:
    """Show ``label``, ``count()`` (of ``total``) and the elapsed time while the block runs.

    ``count`` is read from a background thread, so it must be cheap and thread safe (an
    integer attribute). Without ``count``, only the elapsed time is shown.
    """
    out = stream or sys.stderr
    if not out.isatty():
        yield
        return
    started = time.monotonic()
    done = threading.Event()

    def line() -> str:
        elapsed = f"{time.monotonic() - started:.0f} s"
        if count is None:
            return f"{label}… ({elapsed})"
        of = f"/{total:,}" if total is not None else ""
        return f"{label}: {count():,}{of} ({elapsed})"

    def tick() -> None:
        while not done.wait(interval):
            out.write(f"\r\x1b[K{line()}")
            out.flush()

    ticker = threading.Thread(target=tick, name="progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        out.write("\r\x1b[K")
        out.flush()
