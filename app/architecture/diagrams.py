"""Mermaid diagrams for the catalog: who publishes and consumes what, and module depends.

Node ids are derived from names (``m_patients``, ``e_patient_created``) and every edge list is
sorted, so the same code always renders the same text.
"""

from __future__ import annotations

import re

from app.core.events.types import KNOWN_EVENTS

from .analysis import Analysis

__all__ = ["dependency_diagram", "event_flow_diagram"]


def event_flow_diagram(analysis: Analysis) -> list[str]:
    """``flowchart LR``: publishing module → event → consuming module (edge label: transport)."""
    lines = ["```mermaid", "flowchart LR"]
    for module in analysis.modules:
        lines.append(f'    {_module_id(module.name)}(["{module.name}"])')
    edges: set[str] = set()
    for event in KNOWN_EVENTS:
        lines.append(f'    {_event_id(event)}{{{{"{event}"}}}}')
        for site in analysis.publishers_of(event):
            source = analysis.module_name(site.component)
            edges.add(f"    {_module_id(source)} --> {_event_id(event)}")
        for consumer in analysis.consumers_of(event):
            edges.add(
                f"    {_event_id(event)} -->|{consumer.transport}| {_module_id(consumer.module)}"
            )
    lines += sorted(edges)
    lines += [
        "    classDef event fill:#fff4dd,stroke:#c98a00",
        f"    class {','.join(_event_id(event) for event in KNOWN_EVENTS)} event",
        "```",
    ]
    return lines


def dependency_diagram(analysis: Analysis) -> list[str]:
    """``flowchart LR``: an arrow from each module to each module in its ``depends``."""
    lines = ["```mermaid", "flowchart LR"]
    edges: list[str] = []
    for module in analysis.modules:
        lines.append(f'    {_module_id(module.name)}["{module.name}"]')
        edges += [
            f"    {_module_id(module.name)} -->|depends on| {_module_id(dep)}"
            for dep in sorted(module.depends)
        ]
    return [*lines, *edges, "```"]


def _module_id(name: str) -> str:
    return "m_" + _slug(name)


def _event_id(name: str) -> str:
    return "e_" + _slug(name)


def _slug(name: str) -> str:
    return re.sub(r"\W", "_", name) or "_"
