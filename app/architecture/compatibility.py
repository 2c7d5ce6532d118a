"""Breaking payload changes: each declared payload against the committed AsyncAPI document.

A consumer written for a payload version must keep reading every message of that version. So
when a declaration changes and its version does not, these are breaking, each reported with the
event and the field:

- a field **removed** (a consumer reads it);
- a field **retyped** (its JSON Schema changed: another type, a value newly allowed or refused,
  ``null`` newly allowed...);
- a field **newly required** (messages already in streams and dead-letter queues lack it), or
  a field **no longer required** (a consumer counts on it being there).

Adding an optional field is compatible. A version bump accepts any change (consumers branch on
the envelope's ``version``); a version that goes down is an error. An event not yet in the
document is new, so nothing can break (``events asyncapi --check`` asks for the regeneration).
Titles and descriptions are prose: changing them breaks nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.core.events.payloads import DECLARED_PAYLOADS, PayloadSpec

from .asyncapi import ASYNCAPI_COMMAND, ASYNCAPI_PATH, payload_schema
from .findings import PROJECT_ROOT, Finding, Location, relative

__all__ = ["BreakingChange", "breaking_changes", "committed_payloads", "compatibility_findings"]

_PROSE = frozenset({"title", "description", "examples"})


@dataclass(frozen=True, order=True)
class BreakingChange:
    """One change of ``event``'s payload that could break a consumer of its version."""

    event: str
    field: str
    kind: str  # "removed", "retyped", "newly required", "no longer required", "version"
    detail: str

    def __str__(self) -> str:
        subject = f"field {self.field!r}" if self.field else "the payload"
        return f"{self.event}: {subject} {self.detail}"


@dataclass(frozen=True)
class CommittedPayload:
    """What the committed document says of one event: version and resolved payload schema."""

    version: int
    schema: dict[str, Any]


def committed_payloads(document: Mapping[str, Any]) -> dict[str, CommittedPayload]:
    """Event name → its version and payload schema (references resolved), per message."""
    components = document.get("components", {})
    schemas = components.get("schemas", {})
    found: dict[str, CommittedPayload] = {}
    for message in components.get("messages", {}).values():
        version = message["headers"]["properties"]["version"]["const"]
        found[message["name"]] = CommittedPayload(version, _resolve(message["payload"], schemas))
    return found


def breaking_changes(
    committed: Mapping[str, CommittedPayload],
    declared: Mapping[str, PayloadSpec] = DECLARED_PAYLOADS,
) -> list[BreakingChange]:
    """Every breaking change of ``declared`` against ``committed``, sorted."""
    changes: list[BreakingChange] = []
    for event, old in committed.items():
        spec = declared.get(event)
        if spec is None:
            changes.append(BreakingChange(event, "", "removed", "is no longer declared"))
            continue
        schema, nested = payload_schema(spec)
        new = _resolve(schema, nested)
        if spec.version < old.version:
            detail = f"version went down from {old.version} to {spec.version}"
            changes.append(BreakingChange(event, "", "version", detail))
        elif spec.version == old.version:
            changes += _field_changes(event, spec.version, old.schema, new)
    return sorted(changes)


def _field_changes(
    event: str, version: int, old: Mapping[str, Any], new: Mapping[str, Any]
) -> Iterator[BreakingChange]:
    bump = f"without a version bump (still v{version}): bump it in app/core/events/payloads.py"
    old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
    old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
    for name, before in old_fields.items():
        if name not in new_fields:
            yield BreakingChange(event, name, "removed", f"was removed {bump}")
            continue
        if _plain(before) != _plain(new_fields[name]):
            detail = f"was retyped ({_kind(before)} → {_kind(new_fields[name])}) {bump}"
            yield BreakingChange(event, name, "retyped", detail)
        if name in new_required and name not in old_required:
            yield BreakingChange(event, name, "newly required", f"became required {bump}")
        if name in old_required and name not in new_required:
            yield BreakingChange(event, name, "no longer required", f"became optional {bump}")
    for name in new_fields:
        if name not in old_fields and name in new_required:
            yield BreakingChange(event, name, "newly required", f"was added as required {bump}")


def _resolve(schema: Any, schemas: Mapping[str, Any], depth: int = 0) -> Any:
    """``schema`` with ``#/components/schemas/...`` references inlined."""
    if depth > 32:
        return schema
    if isinstance(schema, Mapping):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in schemas:
            return _resolve(schemas[ref.rsplit("/", 1)[-1]], schemas, depth + 1)
        return {key: _resolve(value, schemas, depth + 1) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_resolve(item, schemas, depth + 1) for item in schema]
    return schema


def _plain(schema: Any) -> Any:
    """The schema without prose (titles, descriptions), for comparison."""
    if isinstance(schema, Mapping):
        return {k: _plain(v) for k, v in schema.items() if k not in _PROSE}
    if isinstance(schema, list):
        return [_plain(item) for item in schema]
    return schema


def _kind(schema: Mapping[str, Any]) -> str:
    from .schema_text import type_text

    return type_text(schema)


def compatibility_findings(
    path: Path | None = None, declared: Mapping[str, PayloadSpec] = DECLARED_PAYLOADS
) -> list[Finding]:
    """``events check``'s findings: one error per breaking change, at its declaration."""
    document_path = path if path is not None else PROJECT_ROOT / ASYNCAPI_PATH
    shown = relative(document_path)
    if not document_path.is_file():
        return [
            Finding.warning(
                Location(shown, 1),
                f"no committed AsyncAPI document to compare payloads with; `{ASYNCAPI_COMMAND}`",
            )
        ]
    try:
        committed = committed_payloads(yaml.safe_load(document_path.read_text("utf-8")))
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        return [Finding.error(Location(shown, 1), f"cannot read its messages ({exc!r:.80})")]
    return [
        Finding.error(_declared_at(declared.get(change.event)), f"breaking change: {change}")
        for change in breaking_changes(committed, declared)
    ]


def _declared_at(spec: PayloadSpec | None) -> Location:
    if spec is None:
        return Location("app/core/events/payloads.py", 1)
    try:
        lines, line = inspect.getsourcelines(spec.shape)
        where = inspect.getsourcefile(spec.shape) or "app/core/events/payloads.py"
    except (OSError, TypeError):
        return Location("app/core/events/payloads.py", 1)
    del lines
    return Location(relative(where), line)
