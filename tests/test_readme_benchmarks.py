"""The README's Redis Streams table is what ``bench.streams`` prints: the same rows, in the
same order, and every ratio and bar worked out from the rates the table itself shows."""

from __future__ import annotations

import re

from bench.streams import (
    BATCH_FLOOR,
    BATCH_OURS,
    CLI_DRAIN,
    PEER_DRAIN,
    PUBLISH_BUS,
    PUBLISH_FLOOR,
    PUBLISH_TRANSPORT,
)
from bench.streams_drain import APP_DRAIN, DRAIN_FLOOR, EMBEDDED_DRAIN
from tests.support.walkthrough import README

HEADING = "### Redis Streams (`bench/streams.py`)"
ROWS = [
    f"{PUBLISH_FLOOR} (floor)", PUBLISH_TRANSPORT, PUBLISH_BUS,
    f"{BATCH_FLOOR} (floor)", BATCH_OURS,
    f"{DRAIN_FLOOR} (floor)", EMBEDDED_DRAIN, APP_DRAIN, CLI_DRAIN,
]  # fmt: skip
BAR = re.compile(r"\*\*(?P<ratio>[0-9.]+)\*\* \(bar ≥ (?P<bar>[0-9.]+)(?P<missed>: not met)?\)")


def _throughput_rows() -> list[list[str]]:
    """The cells of the first table under the heading whose header is ``variant``."""
    lines = README.read_text(encoding="utf-8").split(HEADING, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| variant |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_streams_table_has_the_rows_the_bench_prints() -> None:
    labels = [row[0] for row in _throughput_rows()]
    assert labels[: len(ROWS)] == ROWS
    peer = re.escape(PEER_DRAIN).replace(re.escape("{version}"), r"[0-9][0-9.]*")
    assert len(labels) == len(ROWS) + 1 and re.fullmatch(peer, labels[-1]), labels[len(ROWS) :]


def test_every_ratio_is_its_rate_over_its_floor_and_every_bar_says_if_it_is_met() -> None:
    floor = 0.0
    for label, rate_text, ratio_text in _throughput_rows():
        rate = float(rate_text.replace(",", ""))
        if label.endswith("(floor)"):
            floor = rate
            assert ratio_text == "1.00"
            continue
        barred = BAR.fullmatch(ratio_text)
        ratio = float(barred["ratio"] if barred else ratio_text)
        assert abs(ratio - rate / floor) < 0.006, (label, ratio, rate / floor)
        if barred:  # decided on the rates, as the bench does (0.898 shows as 0.90: not met)
            assert (barred["missed"] is not None) == (rate / floor < float(barred["bar"])), label
