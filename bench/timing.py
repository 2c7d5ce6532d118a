"""Shared timing method for the benchmarks: calibrated samples, interleaved rounds, medians.

Each variant is a callable ``run(k)`` that performs the operation ``k`` times in its own tight
loop (no wrapper call per operation, so the floor is not inflated); ``k`` is calibrated so a
sample takes about ``sample_ms``; garbage collection is off during a sample. Every round runs
every variant once, in a shuffled order (fixed seed), so all variants see the same machine
noise; the figure is the median ns per operation over the rounds.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable, Mapping

__all__ = ["Runner", "calibrate", "interleaved_medians", "markdown_table"]


Runner = Callable[[int], object]


def calibrate(run: Runner, sample_ms: float) -> int:
    """How many operations ``run`` does in about ``sample_ms`` milliseconds."""
    count = 1
    while True:
        started = time.perf_counter_ns()
        run(count)
        elapsed = time.perf_counter_ns() - started
        if elapsed >= sample_ms * 1e6 / 4:
            return max(1, int(count * sample_ms * 1e6 / elapsed))
        count *= 2


def interleaved_medians(
    variants: Mapping[str, Runner],
    rounds: int = 21,
    sample_ms: float = 30.0,
    seed: int = 7,
) -> dict[str, float]:
    """Median ns per call of each variant over ``rounds`` shuffled rounds."""
    counts = {name: calibrate(op, sample_ms) for name, op in variants.items()}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    order = list(variants)
    rng = random.Random(seed)
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            run, count = variants[name], counts[name]
            gc.disable()
            try:
                started = time.perf_counter_ns()
                run(count)
                elapsed = time.perf_counter_ns() - started
            finally:
                gc.enable()
            samples[name].append(elapsed / count)
    return {name: statistics.median(values) for name, values in samples.items()}


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table; columns after the first are right-aligned."""
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
