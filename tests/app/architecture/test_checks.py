"""``flask events check``: each planted violation gives its exact message and exit code."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from app.architecture import analyse, run_checks
from app.architecture.__main__ import main as standalone
from app.architecture.imports import forbidden_import_findings
from app.core.events import EventType, ModuleLoadError
from tests.support.schema import make_app

from .support import ADD_HINT, SAMPLES, SAMPLES_DIR, TYPES, at, line_of

SampleApp = Callable[[str], Flask]


def check(app: Flask) -> Result:
    return app.test_cli_runner().invoke(args=["events", "check"])


def check_without_app(sample: str) -> Result:
    return CliRunner().invoke(standalone, ["check", "--package", f"{SAMPLES}.{sample}"])


def lines(result: Result, severity: str) -> list[str]:
    return [line for line in result.output.splitlines() if f": {severity}: " in line]


def test_a_clean_tree_passes_and_warns_about_events_nobody_publishes_or_consumes(
    sample_app: SampleApp,
) -> None:
    result = check(sample_app("clean"))
    assert result.exit_code == 0, result.output
    assert lines(result, "error") == []
    published = {"patient.created", "patient.updated", "patient.archived", "invoice.paid"}
    consumed = {"patient.created", "invoice.issued", "invoice.payment_recorded", "invoice.paid"}
    package = f"{SAMPLES}.clean"
    expected = []
    for member in EventType:
        event, where = str(member), at(TYPES, f'= "{member}"')
        if event not in published:
            expected.append(
                f"{where}: warning: {event!r} is declared in EventType but never published "
                f"in {package}"
            )
        if event not in consumed:
            expected.append(
                f"{where}: warning: {event!r} is declared in EventType but no module in "
                f"{package} consumes it"
            )
    assert lines(result, "warning") == expected
    assert result.output.splitlines()[-1] == (
        f"events check: 0 errors, {len(expected)} warnings in {package}"
    )


def test_imports_of_another_module_outside_depends_are_errors_wherever_they_hide(
    sample_app: SampleApp,
) -> None:
    result = check(sample_app("boundary"))
    beta = f"{SAMPLES_DIR}/boundary/beta"
    internals = f"{SAMPLES}.boundary.alpha.internals"
    relative = f"{beta}/relative_by_string.py"
    advice = (
        "but 'alpha' is not in its manifest.depends (it depends on: nothing); "
        "react to alpha's events instead, or add 'alpha' to depends for a synchronous read"
    )
    assert result.exit_code == 1
    assert lines(result, "error") == [
        f"{at(beta + '/by_string.py', 'alpha.internals')}: error: module 'beta' imports "
        f"{internals} (by string), {advice}",
        f"{at(beta + '/inside_function.py', 'import internals')}: error: module 'beta' "
        f"imports {internals}, {advice}",
        f"{relative}:{line_of(relative, 'def load_internals') + 1}: error: "
        f"module 'beta' imports {internals} (by string), {advice}",
        f"{relative}:{line_of(relative, 'def load_by_keyword') + 1}: error: "
        f"module 'beta' imports {internals} (by string), {advice}",
        f"{at(beta + '/relative_by_string.py', '__import__(')}: error: "
        f"module 'beta' imports {internals} (by string), {advice}",
        f"{at(beta + '/top_level.py', 'import SECRET')}: error: module 'beta' imports "
        f"{internals}, {advice}",
    ]
    assert (
        f"{at(beta + '/by_string.py', 'import_module(name)')}: warning: cannot check a dynamic "
        "import: importlib.import_module(name)"
    ) in lines(result, "warning")
    assert result.output.splitlines()[-1].startswith("events check: 6 errors, ")


def test_published_names_not_in_event_type_are_errors(sample_app: SampleApp) -> None:
    result = check(sample_app("unknown_published"))
    service = f"{SAMPLES_DIR}/unknown_published/clinic/service.py"
    discharge = f"{service}:{line_of(service, 'def discharge') + 1}"
    assert result.exit_code == 1
    assert lines(result, "error") == [
        f"{at(service, 'patient.admitted')}: error: publishes 'patient.admitted', which is not "
        f"a member of EventType {ADD_HINT}",
        f"{discharge}: error: publishes EventType.PATIENT_DISCHARGED, "
        f"which is not a member of EventType {ADD_HINT}",
        f"{at(service, 'patient.*')}: error: publishes 'patient.*', a pattern: an event is "
        "published under one member of EventType",
    ]


def test_event_names_that_cannot_be_resolved_are_reported_not_passed(
    sample_app: SampleApp,
) -> None:
    result = check(sample_app("dynamic_name"))
    service = f"{SAMPLES_DIR}/dynamic_name/clinic/service.py"
    assert result.exit_code == 1
    assert lines(result, "error") == [
        f"{at(service, 'patient.{action}')}: error: cannot resolve the event name of "
        "event_bus.publish(f'patient.{action}', ...): pass an EventType member or a string "
        "literal",
        f"{at(service, 'publish_after_commit(name')}: error: cannot resolve the event name of "
        "publish_after_commit(name, ...): pass an EventType member or a string literal",
    ]


def test_subscribed_names_not_in_event_type_are_found_even_though_the_app_cannot_start() -> None:
    package = f"{SAMPLES}.unknown_subscribed"
    with pytest.raises(ModuleLoadError, match=r"subscribes to 'patient\.admitted'"):
        make_app({"MODULES_PACKAGE": package, "TESTING": True})
    result = check_without_app("unknown_subscribed")
    clinic = f"{SAMPLES_DIR}/unknown_subscribed/clinic/__init__.py"
    admitted, lab = at(clinic, ": on_admitted,"), at(clinic, ": on_lab,")
    # lab builds its handlers at run time: the loaded module names them, at its method.
    built = at(f"{SAMPLES_DIR}/unknown_subscribed/lab/__init__.py", "def get_event_handlers")
    assert result.exit_code == 1
    assert lines(result, "error") == [
        f"{admitted}: error: subscribes to 'patient.admitted', which is not a member of "
        f"EventType {ADD_HINT}",
        f"{lab}: error: subscribes to 'lab.*', a pattern that matches no member of EventType",
        f"{built}: error: subscribes to 'lab.result_ready', which is not a member of "
        f"EventType {ADD_HINT} (lab.on_any)",
    ]
    assert [str(f) for f in run_checks(analyse(package)) if f.severity == "error"] == lines(
        result, "error"
    )


def test_a_module_that_fails_to_import_is_reported_and_its_source_still_checked() -> None:
    result = check_without_app("broken_import")
    broken = f"{SAMPLES_DIR}/broken_import/broken"
    assert result.exit_code == 1
    # broken/service.py imports `other`: allowed by the manifest read from broken's source.
    assert lines(result, "error") == [
        f"{at(broken + '/exploding.py', 'raise RuntimeError')}: error: module "
        f"{SAMPLES}.broken_import.broken fails to import: RuntimeError: this sample module "
        "fails to import",
        f"{at(broken + '/service.py', 'patient.admitted')}: error: publishes "
        f"'patient.admitted', which is not a member of EventType {ADD_HINT}",
    ]


def test_a_broker_free_package_importing_redis_or_rq_is_an_error() -> None:
    cache = f"{SAMPLES_DIR}/broker/cache.py"
    module = f"{SAMPLES}.broker.cache"
    advice = "only transports/ may import a broker library"
    assert [str(f) for f in forbidden_import_findings(f"{SAMPLES}.broker")] == [
        f"{at(cache, 'import redis')}: error: {module} imports redis; {advice}",
        f"{at(cache, 'from rq import')}: error: {module} imports rq; {advice}",
    ]
    assert forbidden_import_findings("app") == []
