"""W3C trace context as optional envelope fields, on both wire shapes."""

from __future__ import annotations

import pytest

from app.core.events.envelope import Envelope

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _envelope(**fields: object) -> Envelope:
    base = Envelope("e1", "patient.created", {"patient_id": "p1"}, "c1")
    return base.replace(**fields)


def test_absent_by_default_and_not_on_the_wire() -> None:
    envelope = _envelope()
    assert envelope.traceparent is None
    assert "traceparent" not in envelope.to_fields()
    assert "traceparent" not in envelope.to_dict()


@pytest.mark.parametrize("shape", ["fields", "dict"])
def test_carried_through_both_shapes(shape: str) -> None:
    envelope = _envelope(traceparent=TRACEPARENT, tracestate="vendor=abc")
    if shape == "fields":
        back = Envelope.from_fields(
            {k.encode(): v.encode() for k, v in envelope.to_fields().items()}
        )
    else:
        back = Envelope.from_dict(envelope.to_dict())
    assert (back.traceparent, back.tracestate) == (TRACEPARENT, "vendor=abc")


@pytest.mark.parametrize(
    ("traceparent", "tracestate"),
    [("not-a-trace", "a=b"), (TRACEPARENT.upper(), None), (42, None), ("", "a=b")],
)
def test_a_bad_trace_context_is_dropped_never_an_error(
    traceparent: object, tracestate: object
) -> None:
    data = _envelope().to_dict() | {"traceparent": traceparent, "tracestate": tracestate}
    back = Envelope.from_dict(data)
    assert back.traceparent is None
    assert back.tracestate is None
    assert back.payload == {"patient_id": "p1"}


def test_an_oversized_tracestate_is_dropped_alone() -> None:
    data = _envelope().to_dict() | {"traceparent": TRACEPARENT, "tracestate": "x" * 513}
    back = Envelope.from_dict(data)
    assert (back.traceparent, back.tracestate) == (TRACEPARENT, None)
