"""Event names as the source spells them, and whether ``EventType`` knows them.

:class:`NameResolver` turns the expression a call passes as the event name into names:

- a string literal, ``"patient.created"``;
- an ``EventType`` member, ``EventType.PATIENT_CREATED`` (also through an import alias,
  ``events.EventType.X``, ``EventType.X.value``, ``str(EventType.X)``, ``EventType("x.y")``);
- a module-level constant bound to one of those (``CREATED = EventType.PATIENT_CREATED``);
- ``a if cond else b`` where both sides resolve (both names count).

Anything else (an f-string, a parameter, a constant imported from another file) is *dynamic*:
the resolver returns ``None`` and the caller reports it; it never guesses.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass

from app.core.events.subscriptions import matches, pattern_is_wildcard
from app.core.events.types import KNOWN_EVENTS, EventType

from .findings import Location, relative

__all__ = ["EventName", "NameResolver", "event_type_locations", "is_known", "known_names"]


@dataclass(frozen=True, order=True)
class EventName:
    """A resolved name. ``member`` is set for ``EventType.NAME`` references; a reference to a
    member that does not exist has ``value`` ``""``."""

    value: str
    member: str = ""

    def __str__(self) -> str:
        if self.member and not self.value:
            return f"EventType.{self.member}"
        return repr(self.value)


def known_names() -> frozenset[str]:
    """Every name ``EventType`` declares (the one list, ``KNOWN_EVENTS``)."""
    return frozenset(KNOWN_EVENTS)


def is_known(name: str) -> bool:
    """Whether ``name`` is an ``EventType`` name, or a wildcard matching at least one."""
    if pattern_is_wildcard(name):
        return any(matches(name, known) for known in known_names())
    return name in known_names()


def event_type_locations() -> dict[str, Location]:
    """Where each ``EventType`` member is declared (for warnings about a declared event)."""
    path = inspect.getsourcefile(EventType)
    if path is None:  # pragma: no cover (frozen installs only)
        return {}
    lines, start = inspect.getsourcelines(EventType)
    tree = ast.parse("".join(lines))
    found: dict[str, Location] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in EventType.__members__:
                found[str(EventType[name])] = Location(relative(path), start + node.lineno - 1)
    return found


class NameResolver:
    """Resolves event-name expressions in one file (see the module docstring)."""

    def __init__(self, tree: ast.Module) -> None:
        self._enum_aliases = {"EventType"}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name == "EventType" and alias.asname:
                        self._enum_aliases.add(alias.asname)
        self._constants: dict[str, tuple[EventName, ...]] = {}
        for stmt in tree.body:
            target, value = _single_assignment(stmt)
            if target is not None and value is not None:
                resolved = self.resolve(value)
                if resolved is not None:
                    self._constants[target] = resolved

    def resolve(self, node: ast.expr) -> tuple[EventName, ...] | None:  # noqa: PLR0911
        """The names ``node`` may evaluate to, or ``None`` when it cannot be known statically."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return (EventName(node.value),)
        if isinstance(node, ast.Attribute) and self._is_enum(node.value):
            member = node.attr
            value = str(EventType[member]) if member in EventType.__members__ else ""
            return (EventName(value, member),)
        if isinstance(node, ast.Attribute) and node.attr == "value":
            return self.resolve(node.value) if self._is_member(node.value) else None
        if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
            if isinstance(node.func, ast.Name) and node.func.id == "str":
                return self.resolve(node.args[0])
            if self._is_enum(node.func):
                return self.resolve(node.args[0])
        if isinstance(node, ast.Name) and node.id in self._constants:
            return self._constants[node.id]
        if isinstance(node, ast.IfExp):
            body, orelse = self.resolve(node.body), self.resolve(node.orelse)
            if body is not None and orelse is not None:
                return tuple(dict.fromkeys((*body, *orelse)))
        return None

    def _is_enum(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self._enum_aliases
        return isinstance(node, ast.Attribute) and node.attr == "EventType"

    def _is_member(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Attribute) and self._is_enum(node.value)


def _single_assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        return (target.id if isinstance(target, ast.Name) else None), stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value
    return None, None
