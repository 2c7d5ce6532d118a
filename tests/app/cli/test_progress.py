"""Long commands show periodic counts on a terminal and nothing extra elsewhere."""

from __future__ import annotations

import io
import time

from app.cli.progress import counting


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_counts_are_rewritten_on_one_terminal_line_then_cleared() -> None:
    out = Terminal()
    done = [0]
    with counting("handled", lambda: done[0], total=5, interval=0.01, stream=out):
        for _ in range(5):
            done[0] += 1
            time.sleep(0.03)
    text = out.getvalue()
    assert "\r\x1b[Khandled: " in text and "/5 (" in text
    assert text.endswith("\r\x1b[K"), "the status line is cleared for the summary"
    assert "\n" not in text


def test_without_a_count_the_elapsed_time_is_shown() -> None:
    out = Terminal()
    with counting("events check: reading the source", interval=0.01, stream=out):
        time.sleep(0.05)
    assert "events check: reading the source… (0 s)" in out.getvalue()


def test_off_a_terminal_nothing_is_written() -> None:
    out = io.StringIO()
    with counting("handled", lambda: 1, interval=0.01, stream=out):
        time.sleep(0.03)
    assert out.getvalue() == ""
