"""The architecture checks behind ``flask events check`` (ADR 0003).

Errors (exit 1):

- a module imports another module that is not in its ``manifest.depends`` (``import`` at the
  top, inside a function, or by ``importlib`` string);
- ``app/`` imports a broker library (``redis``, ``rq``);
- a publish call or a subscription names an event that is not in ``EventType``;
- a publish call (or, in a module that cannot be loaded, a subscription) whose event name
  cannot be resolved statically: reported, never passed silently;
- an ``EventType`` member without a declared payload in ``payloads.py``;
- a declared payload changed in a way that could break a consumer (a field removed, retyped,
  newly required) without a version bump, against the committed ``docs/asyncapi.yaml``
  (``compatibility.py``);
- a module that fails to import, a handler without an id, a manifest the loader refuses, a
  file that does not parse.

Warnings (exit 0): an event declared in ``EventType`` that nothing publishes, or that no
module consumes; an import by string that cannot be judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.core.events.payloads import DECLARED_PAYLOADS
from app.core.events.subscriptions import pattern_is_wildcard
from app.core.events.types import EventType

from .analysis import Analysis
from .compatibility import compatibility_findings
from .findings import Finding, Location, Severity, exit_code, sorted_findings
from .imports import boundary_findings, forbidden_import_findings
from .names import EventName, event_type_locations, is_known, known_names

__all__ = ["ADD_HINT", "check_report", "run_checks", "summary"]

ADD_HINT = "add it to app/core/events/types.py first"


def run_checks(analysis: Analysis, broker_free: str = "app") -> list[Finding]:
    """Every finding for ``analysis``, sorted; ``broker_free`` is the package that must never
    import a broker library."""
    findings = [*analysis.parse_problems, *analysis.inventory.problems]
    findings += _publish_findings(analysis)
    findings += _subscription_findings(analysis)
    findings += boundary_findings(
        analysis.package, analysis.files, analysis.inventory.by_directory()
    )
    findings += forbidden_import_findings(broker_free)
    findings += _declaration_findings(analysis)
    findings += compatibility_findings()
    return sorted_findings(findings)


def check_report(analysis: Analysis) -> tuple[list[str], int]:
    """The lines ``events check`` prints (findings, then :func:`summary`) and its exit code."""
    findings = run_checks(analysis)
    lines = [str(finding) for finding in findings]
    return [*lines, summary(findings, analysis.package)], exit_code(findings)


def summary(findings: list[Finding], package: str) -> str:
    """The last line ``events check`` prints."""
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = len(findings) - errors
    return (
        f"events check: {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)} in {package}"
    )


def _publish_findings(analysis: Analysis) -> Iterator[Finding]:
    for site in analysis.publishers:
        if not site.resolved:
            written = site.expression or "no event name"
            yield Finding.error(
                site.location,
                f"cannot resolve the event name of {site.call}({written}, ...): "
                "pass an EventType member or a string literal",
            )
        for name in site.names:
            if name.value not in known_names():
                yield Finding.error(site.location, f"publishes {_unknown(name)}")


def _subscription_findings(analysis: Analysis) -> Iterator[Finding]:
    reported: set[tuple[str, str]] = set()
    failed = analysis.inventory.failed()
    for site in analysis.subscriptions:
        module = analysis.module_name(site.component)
        if not site.names and site.component in failed:
            yield Finding.error(
                site.location,
                f"cannot resolve the subscribed name {site.expression} "
                f"(and module {module!r} fails to import, so its handlers cannot be read)",
            )
        for name in site.names:
            if not is_known(name.value):
                reported.add((module, name.value))
                yield Finding.error(site.location, f"subscribes to {_unknown(name)}")
    for consumer in analysis.inventory.consumers:
        if is_known(consumer.pattern) or (consumer.module, consumer.pattern) in reported:
            continue
        where = analysis.inventory.handler_methods.get(consumer.module, Location("?", 1))
        name = EventName(consumer.pattern)
        yield Finding.error(where, f"subscribes to {_unknown(name)} ({consumer.handler_id})")


def _declaration_findings(analysis: Analysis) -> Iterator[Finding]:
    locations = event_type_locations()
    for member in EventType:
        event = str(member)
        where = locations.get(event, Location("app/core/events/types.py", 1))
        if event not in DECLARED_PAYLOADS:
            yield Finding.error(
                where,
                f"EventType.{member.name} has no declared payload "
                "in app/core/events/payloads.py (DECLARED_PAYLOADS)",
            )
        if not analysis.publishers_of(event):
            yield Finding.warning(
                where,
                f"{event!r} is declared in EventType but never published in {analysis.package}",
            )
        if not analysis.consumers_of(event) and not analysis.statically_subscribed(event):
            yield Finding.warning(
                where,
                f"{event!r} is declared in EventType but no module in "
                f"{analysis.package} consumes it",
            )


def _unknown(name: EventName) -> str:
    if name.member and not name.value:
        return f"EventType.{name.member}, which is not a member of EventType ({ADD_HINT})"
    if pattern_is_wildcard(name.value) and is_known(name.value):
        return f"{name}, a pattern: an event is published under one member of EventType"
    if pattern_is_wildcard(name.value):
        return f"{name}, a pattern that matches no member of EventType"
    return f"{name}, which is not a member of EventType ({ADD_HINT})"
