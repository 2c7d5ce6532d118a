"""Publish calls and subscriptions found by reading the source, and how names resolve."""

from __future__ import annotations

import ast

import pytest

from app.architecture import analyse
from app.architecture.names import EventName, NameResolver

from .support import SAMPLES, SAMPLES_DIR, at

SERVICE = f"{SAMPLES_DIR}/clean/alpha/service.py"


def resolve(source: str, expression: str) -> tuple[EventName, ...] | None:
    resolver = NameResolver(ast.parse(source))
    return resolver.resolve(ast.parse(expression, mode="eval").body)


def test_every_publishing_call_form_is_found_with_its_line() -> None:
    analysis = analyse(f"{SAMPLES}.clean")
    found = {
        (str(site.location), site.call, tuple(name.value for name in site.names))
        for site in analysis.publishers
    }
    assert found == {
        (at(SERVICE, "event_bus.publish(CREATED"), "event_bus.publish", ("patient.created",)),
        (
            at(SERVICE, "publish_after_commit("),
            "publish_after_commit",
            ("patient.archived", "patient.updated"),
        ),
        (at(SERVICE, "queue_event(event_type="), "queue_event", ("invoice.paid",)),
    }
    assert {site.component for site in analysis.publishers} == {"alpha"}
    assert analysis.module_name("alpha") == "alpha"


def test_subscriptions_come_from_the_modules_with_ids_and_transports() -> None:
    analysis = analyse(f"{SAMPLES}.clean")
    assert [
        (c.pattern, c.handler_id, c.transport, c.module) for c in analysis.inventory.consumers
    ] == [
        ("invoice.*", "beta.on_invoice", "inprocess", "beta"),
        ("patient.created", "beta.on_patient_created", "inprocess", "beta"),
    ]
    assert [c.handler_id for c in analysis.consumers_of("invoice.paid")] == ["beta.on_invoice"]
    assert [(m.name, m.depends, m.version) for m in analysis.modules] == [
        ("alpha", (), "2.0.0"),
        ("beta", ("alpha",), "0.1.0"),
    ]


@pytest.mark.parametrize(
    ("source", "expression", "expected"),
    [
        ("", "'patient.created'", ["'patient.created'"]),
        ("", "EventType.INVOICE_PAID", ["'invoice.paid'"]),
        ("", "events.EventType.INVOICE_PAID", ["'invoice.paid'"]),
        ("", "EventType.INVOICE_PAID.value", ["'invoice.paid'"]),
        ("", "str(EventType.INVOICE_PAID)", ["'invoice.paid'"]),
        ("", "EventType('invoice.paid')", ["'invoice.paid'"]),
        ("from x import EventType as ET", "ET.PATIENT_CREATED", ["'patient.created'"]),
        ("NAME = EventType.PATIENT_CREATED", "NAME", ["'patient.created'"]),
        ("NAME: str = 'a.b'", "NAME", ["'a.b'"]),
        ("", "'a.b' if flag else EventType.PATIENT_CREATED", ["'a.b'", "'patient.created'"]),
        ("", "EventType.NO_SUCH_EVENT", ["EventType.NO_SUCH_EVENT"]),
    ],
)
def test_names_that_resolve(source: str, expression: str, expected: list[str]) -> None:
    names = resolve(source, expression)
    assert names is not None
    assert [str(name) for name in names] == expected


@pytest.mark.parametrize(
    "expression",
    ["f'patient.{action}'", "name", "NAMES[0]", "prefix + '.created'", "'a' if x else name"],
)
def test_names_that_do_not_resolve(expression: str) -> None:
    assert resolve("", expression) is None
