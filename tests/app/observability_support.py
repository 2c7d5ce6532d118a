"""Shared by the observability and dashboard tests: no observer outlives its test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.core.events.instrumentation import HOOK


@contextmanager
def observers_restored() -> Iterator[None]:
    """Remove, after the block, every observer added to the hook during it."""
    before = HOOK.observers()
    try:
        yield
    finally:
        for observer in HOOK.observers():
            if observer not in before:
                HOOK.remove(observer)
