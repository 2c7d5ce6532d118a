"""In-process publish cost: the bus vs a bare loop, blinker and pyee, in one run.

For N = 1, 5 and 20 distinct no-op handlers and a small payload (two id strings), it measures
ns per publish of:

- ``bare loop``: ``publish(p)`` looping over the same functions (the floor: any bus pays a
  call and a loop);
- ``bare loop + ContextVar``: the same with a ``ContextVar`` set before the loop and reset
  after it: the floor of any bus that makes the current event readable through a
  ``ContextVar`` (as ``current_event()`` is), whatever else it does;
- ``blinker send`` (``Signal.send``) and ``pyee emit`` with the same functions connected;
- ``bus, validation off``: ``EVENTBUS_VALIDATE_PAYLOADS=False``, debug logging filtered;
- ``bus, default``: the default configuration as an app has it: validation on (JSON safety,
  size and the declared ``patient.created`` shape, in one pass compiled from its pydantic
  declaration: ``app/core/events/shapes.py``), INFO logging.

Every bus publish sets the current dispatch in a ``ContextVar`` (so ``current_event()``
works in any handler), which costs more than calling one no-op handler. Bars:
validation off ≤ 2.5× the bare loop at N=1 and ≤ 1.5× at N=20; both bus configurations faster
than blinker's ``send`` at every N. The second table (:mod:`bench.publish_cost`) measures the
default configuration's publish and ``publish_after_commit`` work, before and after a change
with ``--before REF``, and the bus's share of a ``POST /patients`` (bar: ≤ 3%).
Run: ``make bench`` or ``python -m bench.inprocess [--rounds 21] [--sample-ms 30] [--before REF]``.
It prints the load average at the start and the end, and the tables as the README has them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from contextvars import ContextVar
from types import FunctionType
from typing import Any

from blinker import Signal
from pyee import EventEmitter

from app.core.events import EventBus, EventType, Router
from app.core.events.payloads import check_declared_payload
from app.log import configure_logging
from bench import publish_cost
from bench.timing import Runner, interleaved_medians, markdown_table

PAYLOAD = {
    "patient_id": "7278cd76-da89-40b5-be09-5be2e0806357",
    "clinic_id": "db08f64c-e389-4f1a-9e94-0d12a5b868b2",
}
SIZES = (1, 5, 20)
OFF_BARS = {1: 2.5, 20: 1.5}  # validation off / bare loop, by N
FLOOR = "bare loop + ContextVar"


def make_handlers(count: int) -> list[Callable[[Any], None]]:
    """``count`` distinct no-op functions, each with its own code object (distinct code
    paths, like real handlers)."""

    def handler(payload: Any) -> None:
        pass

    code = handler.__code__
    return [
        FunctionType(code.replace(co_name=f"handler_{index}"), globals(), f"handler_{index}")
        for index in range(count)
    ]


def variants_for(count: int) -> dict[str, Runner]:
    """Every variant as ``run(k)``: ``k`` publishes to ``count`` subscribers of one set of
    functions."""
    handlers = make_handlers(count)
    subscribers = tuple(handlers)

    def publish(payload: dict[str, Any]) -> None:
        for handler in subscribers:
            handler(payload)

    current: ContextVar[Any] = ContextVar("bench_current", default=None)

    def publish_in_context(payload: dict[str, Any]) -> None:
        token = current.set(payload)
        for handler in subscribers:
            handler(payload)
        current.reset(token)

    signal = Signal()
    emitter = EventEmitter()
    for handler in handlers:
        signal.connect(handler, weak=False)
        emitter.on("patient.created", handler)
    off, default = EventBus(), EventBus()
    for bus, validate in ((off, False), (default, True)):
        bus.configure(
            router=Router("inprocess", {}, {"inprocess"}),
            validate=validate,
            schema_check=check_declared_payload,
        )
        for index, handler in enumerate(handlers):
            bus.subscribe(EventType.PATIENT_CREATED, handler, handler_id=f"bench.h{index}")
    event, payload = EventType.PATIENT_CREATED, PAYLOAD

    def bare(k: int) -> None:
        for _ in range(k):
            publish(payload)

    def bare_in_context(k: int) -> None:
        for _ in range(k):
            publish_in_context(payload)

    def blinker_send(k: int, send: Any = signal.send) -> None:
        for _ in range(k):
            send(payload)

    def pyee_emit(k: int, emit: Any = emitter.emit) -> None:
        for _ in range(k):
            emit("patient.created", payload)

    def bus_off(k: int, publish: Any = off.publish) -> None:
        for _ in range(k):
            publish(event, payload)

    def bus_default(k: int, publish: Any = default.publish) -> None:
        for _ in range(k):
            publish(event, payload)

    return {
        "bare loop": bare,
        FLOOR: bare_in_context,
        "blinker send": blinker_send,
        "pyee emit": pyee_emit,
        "bus, validation off": bus_off,
        "bus, default": bus_default,
    }


def run(rounds: int, sample_ms: float) -> dict[int, dict[str, float]]:
    """Medians (ns per publish) for every N and variant; every N is one interleaved set."""
    configure_logging("INFO", "json")
    return {count: interleaved_medians(variants_for(count), rounds, sample_ms) for count in SIZES}


def report(results: dict[int, dict[str, float]]) -> str:
    """The markdown table: ns per publish and the ratio to the bare loop, per N."""
    header = ["variant"]
    for count in SIZES:
        header += [f"N={count} ns", "× bare"]
    rows = []
    for name in next(iter(results.values())):
        row = [name]
        for count in SIZES:
            value, floor = results[count][name], results[count]["bare loop"]
            row += [f"{value:,.0f}", f"{value / floor:.2f}"]
        rows.append(row)
    verdicts = []
    for count in SIZES:
        medians = results[count]
        off = medians["bus, validation off"] / medians["bare loop"]
        floor = medians[FLOOR] / medians["bare loop"]
        bar = OFF_BARS.get(count)
        off_verdict = f"bar ≤ {bar:.2f}: {'pass' if off <= bar else 'FAIL'}" if bar else "no bar"
        off_verdict += f"; the ContextVar floor alone {floor:.2f}×"
        blinker = medians["blinker send"]
        vs_blinker = [medians[name] / blinker for name in ("bus, validation off", "bus, default")]
        blinker_verdict = "pass" if max(vs_blinker) < 1 else "FAIL"
        verdicts.append(
            f"N={count}: validation off {off:.2f}× bare ({off_verdict}); "
            f"× blinker: off {vs_blinker[0]:.2f}, default {vs_blinker[1]:.2f} "
            f"(bar < 1.00: {blinker_verdict})"
        )
    return markdown_table(header, rows) + "\n\n" + "\n".join(f"- {line}" for line in verdicts)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--sample-ms", type=float, default=30.0)
    parser.add_argument("--json", action="store_true", help="print raw medians as JSON too")
    parser.add_argument("--before", help="git ref of a baseline for the default publish cost")
    parser.add_argument("--requests", type=int, default=200, help="POST /patients per round")
    args = parser.parse_args(argv)
    print(f"load average at start (1, 5, 15 min): {_load()}\n")
    results = run(args.rounds, args.sample_ms)
    print(report(results))
    print()
    print(publish_cost.report(args.before, args.rounds, args.sample_ms, args.requests))
    print(f"\nload average at end (1, 5, 15 min): {_load()}")
    if args.json:
        json.dump(results, sys.stdout, indent=2)


if __name__ == "__main__":
    main()
