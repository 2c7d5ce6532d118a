"""Subscription sites: where a module's source subscribes to an event name.

Two forms are read:

- the keys of a dict literal returned by a ``get_event_handlers`` method (the loader's way);
- ``<anything>.subscribe(name, handler)`` / ``subscribe(name, handler)`` calls.

The loaded modules are the authority on what is subscribed (see ``inventory.py``); these
sites give the exact line of a bad name, and keep the check working when a module cannot be
imported, or when the loader would refuse to start because of that very name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .findings import Location
from .names import EventName, NameResolver
from .sources import SourceFile

__all__ = ["HANDLERS_METHOD", "SubscriptionSite", "find_subscription_sites"]

HANDLERS_METHOD = "get_event_handlers"
_SUBSCRIBE = "subscribe"


@dataclass(frozen=True)
class SubscriptionSite:
    """A subscribed name at ``location`` in the file of ``component`` (a module directory).

    ``names`` is empty when the name is dynamic (``expression`` says how it is written; it is
    ``"**..."`` for a dict spread).
    """

    location: Location
    component: str
    names: tuple[EventName, ...]
    expression: str


def find_subscription_sites(files: Iterable[SourceFile]) -> list[SubscriptionSite]:
    """Every statically visible subscription in ``files``, in file and line order."""
    sites: list[SubscriptionSite] = []
    for source in files:
        resolver = NameResolver(source.tree)
        for key, node in _subscribed_expressions(source.tree):
            names = resolver.resolve(key) if key is not None else None
            expression = ast.unparse(key) if key is not None else f"**{ast.unparse(node)}"
            sites.append(
                SubscriptionSite(source.at(node), source.component, names or (), expression)
            )
    return sorted(sites, key=lambda site: site.location)


def _subscribed_expressions(tree: ast.Module) -> Iterator[tuple[ast.expr | None, ast.expr]]:
    """``(name expression or None for a spread, node to locate)`` pairs."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name == HANDLERS_METHOD:
                yield from _returned_keys(node)
        elif isinstance(node, ast.Call) and _is_subscribe(node.func) and node.args:
            yield node.args[0], node.args[0]


def _returned_keys(
    method: ast.FunctionDef | ast.AsyncFunctionDef,
) -> Iterator[tuple[ast.expr | None, ast.expr]]:
    for node in ast.walk(method):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                yield (key, key) if key is not None else (None, value)


def _is_subscribe(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id == _SUBSCRIBE
    return isinstance(func, ast.Attribute) and func.attr == _SUBSCRIBE
