"""JSON Schema as a reader writes types: ``string (date-time) | null``, ``array of string``.

The events catalog shows each declared payload field with its type; the declaration is a
``TypedDict`` whose JSON Schema (pydantic's) is also what the AsyncAPI document carries, so
the catalog renders that schema instead of re-reading annotations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FieldDoc", "fields_of", "type_text"]


@dataclass(frozen=True)
class FieldDoc:
    """One declared field: name, type as text, required or not."""

    name: str
    type: str
    required: bool


def fields_of(schema: Mapping[str, Any]) -> tuple[FieldDoc, ...]:
    """The properties of an object schema, in declaration order."""
    required = set(schema.get("required", ()))
    return tuple(
        FieldDoc(name, type_text(sub), name in required)
        for name, sub in schema.get("properties", {}).items()
    )


def type_text(schema: Mapping[str, Any]) -> str:  # noqa: PLR0911  (one branch per keyword)
    """A short reading of ``schema``'s type."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(type_text(option) for option in schema["anyOf"])
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return " | ".join(repr(value) for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_text(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema and "properties" not in schema:
        extra = schema["additionalProperties"]
        return f"object of {type_text(extra)}" if isinstance(extra, Mapping) else "object"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)
