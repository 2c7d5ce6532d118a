"""The tables ``bench.streams`` prints: the README's rows, ready to paste.

One throughput table (publish, batch, drain; each row's rate and its multiple of its
section's raw redis-py floor, the headline rows marked with their bar) and one CPU table
(µs and, with valgrind, instructions per event, here and in the baseline).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.streams_cpu import CpuFigures
from bench.timing import markdown_table

__all__ = ["Section", "cpu_table", "throughput_table"]


@dataclass(frozen=True)
class Section:
    """One part of the throughput table: events/s by row label, measured together."""

    figures: Mapping[str, float]
    floor: str
    """The label of the raw redis-py row the others are divided by."""
    bar: float
    barred: Sequence[str]
    """The labels the bar applies to (ours, not the floor's or a peer's)."""


def throughput_table(sections: Sequence[Section]) -> str:
    """``| variant | events/s | × raw floor |``, the bar and whether it is met on barred rows."""
    rows = []
    for section in sections:
        floor = section.figures[section.floor]
        for label, rate in section.figures.items():
            ratio, shown = f"{rate / floor:.2f}", label
            if label == section.floor:
                shown = f"{label} (floor)"
            elif label in section.barred:
                met = "" if rate / floor >= section.bar else ": not met"
                ratio = f"**{ratio}** (bar ≥ {section.bar}{met})"
            rows.append([shown, f"{rate:,.0f}", ratio])
    return markdown_table(["variant", "events/s", "× raw floor"], rows)


def cpu_table(now: CpuFigures, before: CpuFigures, ref: str | None) -> str:
    """µs (lowest of 3 runs) and instructions (callgrind) per event, now and before."""
    measures = [m for m in ("µs", "instructions") if all(m in f for f in now.values())]
    header = ["CPU per event, stub client (no I/O)"] + [f"now {m}" for m in measures]
    if before:
        header += [f"before {m}" for m in measures] + [f"now / before ({measures[-1]})"]
    rows = []
    for name, figures in now.items():
        row = [_LABELS.get(name, name)] + [_figure(figures[m], m) for m in measures]
        if before and name in before:
            row += [_figure(before[name][m], m) for m in measures]
            row.append(f"{figures[measures[-1]] / before[name][measures[-1]]:.2f}")
        rows.append(row)
    title = "" if ref is None else f"before: {ref}\n\n"
    return title + markdown_table(header, rows)


_LABELS = {
    "bus.publish → Streams": "`bus.publish` → Streams (validation on)",
    "worker per event": "worker per event (`EntryDelivery.handle` in a `WorkerScope` batch)",
}


def _figure(value: float, measure: str) -> str:
    return f"{value:,.0f}" if measure == "instructions" else f"{value:.1f}"
