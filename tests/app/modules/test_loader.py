"""The module loader: discovery, validation (all problems at once), order, wiring."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Blueprint, Flask

from app.core.events import EventType, ModuleLoadError, event_bus
from app.core.modules import BaseModule, Manifest, order_modules
from app.core.modules.loader import discover_modules
from tests.support.schema import make_app


def module(name: str, *depends: str) -> BaseModule:
    cls = type(f"M_{name}", (BaseModule,), {"manifest": Manifest(name, depends=depends)})
    instance: BaseModule = cls()
    return instance


def names(modules: list[BaseModule]) -> list[str]:
    return [m.manifest.name for m in modules]


def test_modules_are_ordered_dependencies_first() -> None:
    ordered = order_modules(
        [module("billing", "patients"), module("timeline"), module("patients"),
         module("appointments", "patients")],
        None,
    )  # fmt: skip
    assert names(ordered).index("patients") < names(ordered).index("billing")
    assert names(ordered).index("patients") < names(ordered).index("appointments")
    assert sorted(names(ordered)) == ["appointments", "billing", "patients", "timeline"]


def test_a_missing_dependency_names_every_dependent() -> None:
    modules = [
        module("patients"),
        module("appointments", "patients"),
        module("billing", "patients"),
    ]
    with pytest.raises(ModuleLoadError) as caught:
        order_modules(modules, ["appointments", "billing"])
    assert "module 'patients' is not enabled, but appointments, billing depend on it" in str(
        caught.value
    )


def test_an_unknown_dependency_is_reported_as_not_found() -> None:
    with pytest.raises(
        ModuleLoadError, match="module 'ghost' is not found, but billing depends on it"
    ):
        order_modules([module("billing", "ghost")], None)


def test_a_cycle_is_reported_with_its_path() -> None:
    with pytest.raises(ModuleLoadError, match=r"dependency cycle: a -> b -> c -> a"):
        order_modules([module("a", "b"), module("b", "c"), module("c", "a")], None)


def test_duplicate_names_and_unknown_enabled_names_are_reported_together() -> None:
    with pytest.raises(ModuleLoadError) as caught:
        order_modules([module("a"), module("a"), module("b")], ["a", "zzz"])
    message = str(caught.value)
    assert "duplicate module name 'a'" in message
    assert "ENABLED_MODULES names unknown module(s) zzz; found: a, b" in message


def test_discovery_finds_module_classes_in_subpackages() -> None:
    found = discover_modules("tests.app.modules.samples.valid")
    assert sorted(names(found)) == ["alpha", "beta"]


@pytest.fixture
def mounted() -> Iterator[Flask]:
    app = make_app({"MODULES_PACKAGE": "tests.app.modules.samples.valid", "TESTING": True})
    yield app
    event_bus.remove_owned("loader")


def test_mounting_registers_blueprints_and_wires_handlers_by_id(mounted: Flask) -> None:
    from tests.app.modules.samples.valid.beta import SEEN

    assert mounted.test_client().get("/alpha/ping").json == {"pong": True}
    assert sorted(mounted.extensions["modules"]) == ["alpha", "beta"]
    ids = {sub.handler_id: sub.owner for sub in event_bus.subscriptions()}
    assert ids == {"beta.on_patient_event": "loader", "beta.on_everything": "loader"}
    SEEN.clear()
    event_bus.publish(EventType.PATIENT_ARCHIVED, {"patient_id": "p1", "clinic_id": "c1"})
    assert SEEN == ["on_patient_event", "on_everything"]


def test_building_the_app_again_rewires_instead_of_duplicating(mounted: Flask) -> None:
    make_app({"MODULES_PACKAGE": "tests.app.modules.samples.valid", "TESTING": True})
    assert len(event_bus.subscriptions()) == 2


@pytest.mark.parametrize(
    ("handlers", "message"),
    [
        ({"patient.teleported": lambda p: None}, "subscribes to 'patient.teleported'"),
        ({"patient.created": lambda p: None}, "returned a handler without a name"),
    ],
)
def test_bad_handlers_fail_at_start_up(
    handlers: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.app.modules.samples.valid import beta

    monkeypatch.setattr(beta.BetaModule, "get_event_handlers", lambda self: handlers)
    with pytest.raises(ModuleLoadError, match=message):
        make_app({"MODULES_PACKAGE": "tests.app.modules.samples.valid", "TESTING": True})


def test_blueprint_is_optional() -> None:
    assert module("headless").get_blueprint() is None
    assert isinstance(Blueprint("x", __name__), Blueprint)
