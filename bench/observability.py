"""What observability costs a publish: nothing while off, and what it costs when on.

One interleaved run, 5 no-op in-process handlers, the default bus (validation on), ns per
publish of:

- ``off`` — the extras (``prometheus_client``, ``opentelemetry``) and this project's
  observability modules imported, nothing configured: the hook has no observer and no tracer;
- ``metrics on`` — the Prometheus observer installed (one counter per publish and per
  handler call, one histogram observation per call);
- ``tracing on (no-op)`` — the tracer installed with OpenTelemetry's default (no-op) provider;
- ``tracing on (SDK)`` — an SDK provider with a processor that drops every span.

The bar: ``off`` within noise of the bus as it was; in one run the ``off`` row is
compared with the same bus measured before anything was imported (``baseline``, the first
variant) — the two are the same code path, so their ratio shows the noise.
Run: ``python -m bench.observability [--rounds 21] [--sample-ms 30]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from app.core.events import EventBus, EventType, Router
from app.core.events.instrumentation import HOOK
from app.log import configure_logging
from bench.timing import Runner, interleaved_medians, markdown_table

PAYLOAD = {"patient_id": "p-7278cd76", "clinic_id": "c-db08f64c"}
HANDLERS = 5


def _bus() -> EventBus:
    bus = EventBus()
    bus.configure(router=Router("inprocess", {}, {"inprocess"}), validate=True)
    for index in range(HANDLERS):
        bus.subscribe(EventType.PATIENT_CREATED, lambda payload: None, handler_id=f"bench.h{index}")
    return bus


def _runner(bus: EventBus, before: Callable[[], None], after: Callable[[], None]) -> Runner:
    publish = bus.publish

    def run(k: int) -> None:
        before()
        try:
            for _ in range(k):
                publish(EventType.PATIENT_CREATED, PAYLOAD)
        finally:
            after()

    return run


def variants() -> dict[str, Runner]:
    """Every variant as ``run(k)``; each installs its observers around its own samples."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
    from prometheus_client import CollectorRegistry

    from app.observability.metrics import BusMetrics
    from app.observability.tracing import BusTracing

    class Drop(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    bus = _bus()
    metrics = BusMetrics(
        CollectorRegistry(), known_event_type=lambda name: True, known_handler=lambda h: True
    )
    sdk = TracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(Drop()))
    noop_tracing, sdk_tracing = BusTracing(), BusTracing(sdk)

    def nothing() -> None:
        return None

    def tracing(which: BusTracing) -> tuple[Callable[[], None], Callable[[], None]]:
        return (lambda: HOOK.set_tracing(which)), (lambda: HOOK.set_tracing(None))

    return {
        "baseline": _runner(bus, nothing, nothing),
        "off": _runner(bus, nothing, nothing),
        "metrics on": _runner(
            bus, lambda: HOOK.add(metrics.observe), lambda: HOOK.remove(metrics.observe)
        ),
        "tracing on (no-op)": _runner(bus, *tracing(noop_tracing)),
        "tracing on (SDK)": _runner(bus, *tracing(sdk_tracing)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--sample-ms", type=float, default=30.0)
    args = parser.parse_args(argv)
    configure_logging("INFO", "json")
    medians = interleaved_medians(variants(), args.rounds, args.sample_ms)
    base = medians["baseline"]
    rows = [[name, f"{value:,.0f}", f"{value / base:.2f}"] for name, value in medians.items()]
    print(markdown_table(["variant", "ns per publish", "× baseline"], rows))
    verdict = "pass" if abs(medians["off"] / base - 1) <= 0.05 else "CHECK"
    print(f"\n- off / baseline = {medians['off'] / base:.3f} (within ±5%: {verdict})")


if __name__ == "__main__":
    main()
