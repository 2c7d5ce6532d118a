"""The small per-handler chart: calls per minute as two SVG polylines, drawn on the server."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["HEIGHT", "WIDTH", "sparkline"]

WIDTH = 180
HEIGHT = 36


def _points(values: Sequence[int], top: int) -> str:
    if not values:
        return ""
    step = WIDTH / max(len(values) - 1, 1)
    return " ".join(
        f"{index * step:.1f},{HEIGHT - 2 - (value / top) * (HEIGHT - 4):.1f}"
        for index, value in enumerate(values)
    )


def sparkline(handled: Sequence[int], failed: Sequence[int]) -> dict[str, object]:
    """Polyline points for handled and failed calls per minute, on one scale; the peak."""
    peak = max([*handled, *failed, 0])
    top = max(peak, 1)
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "handled": _points(handled, top),
        "failed": _points(failed, top),
        "peak": peak,
    }
