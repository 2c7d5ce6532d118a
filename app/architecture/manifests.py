"""Read a module's ``Manifest(...)`` from its source, for a module that fails to import.

Only literal arguments are read (``Manifest("billing", depends=("patients",))``, the form the
loader's documentation shows): enough for the import-boundary check to keep judging a module
whose import is broken. Anything not literal is left at its default.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

__all__ = ["StaticManifest", "read_manifest"]

_MANIFEST = "Manifest"
_POSITIONS = ("name", "version", "depends", "description")


@dataclass(frozen=True)
class StaticManifest:
    """What the source says: name (``""`` if not literal), version, depends, and the line."""

    name: str
    version: str
    depends: tuple[str, ...]
    line: int


def read_manifest(init: Path) -> StaticManifest | None:
    """The first ``Manifest(...)`` call in ``init``, or ``None`` (no call, or no parse)."""
    try:
        tree = ast.parse(init.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_manifest(node.func):
            arguments = dict(zip(_POSITIONS, node.args, strict=False))
            arguments.update((kw.arg, kw.value) for kw in node.keywords if kw.arg)
            return StaticManifest(
                name=_text(arguments.get("name")),
                version=_text(arguments.get("version")) or "0.1.0",
                depends=_texts(arguments.get("depends")),
                line=node.lineno,
            )
    return None


def _is_manifest(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id == _MANIFEST
    return isinstance(func, ast.Attribute) and func.attr == _MANIFEST


def _text(node: ast.expr | None) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""


def _texts(node: ast.expr | None) -> tuple[str, ...]:
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(text for element in node.elts if (text := _text(element)))
    return ()
