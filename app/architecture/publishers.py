"""Publishers: every call that publishes an event, found by reading the source.

A call counts as a publish when it is

- ``<anything>.publish(name, ...)``: ``event_bus.publish``, ``bus.publish``,
  ``self.bus.publish``...;
- ``publish(name, ...)``: a bare ``publish`` (an alias of a bus's method);
- ``publish_after_commit(name, ...)`` (``app.core.persistence``: queued, published once the
  transaction commits), bare, as an attribute, or under an ``import ... as`` alias.

The name is the first positional argument or the ``event_type`` keyword, resolved by
:class:`~app.architecture.names.NameResolver`. A call whose name cannot be resolved is kept
as a :class:`PublishSite` with no names, so the checks report it with its file and line
instead of passing it silently.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from .findings import Location
from .names import EventName, NameResolver
from .sources import SourceFile

__all__ = ["AFTER_COMMIT_HELPERS", "PUBLISH_METHODS", "PublishSite", "find_publish_sites"]

PUBLISH_METHODS = frozenset({"publish"})
"""Bus methods that publish now."""

AFTER_COMMIT_HELPERS = frozenset({"publish_after_commit"})
"""Helpers (``app.core.persistence``) that queue an event to publish after the commit."""

_NAME_KEYWORD = "event_type"


@dataclass(frozen=True)
class PublishSite:
    """A publish call at ``location`` in the file of ``component`` (a module directory).

    ``names`` is empty when the name is dynamic; ``expression`` is the argument as written
    (``""`` when the call passes no name at all); ``call`` is the function as written.
    """

    location: Location
    component: str
    call: str
    names: tuple[EventName, ...]
    expression: str

    @property
    def resolved(self) -> bool:
        """Whether the event name was resolved statically."""
        return bool(self.names)


def find_publish_sites(files: Iterable[SourceFile]) -> list[PublishSite]:
    """Every publish call in ``files``, in file and line order."""
    sites: list[PublishSite] = []
    for source in files:
        resolver = NameResolver(source.tree)
        helpers = _helper_aliases(source.tree)
        for node in ast.walk(source.tree):
            if isinstance(node, ast.Call) and _is_publish(node.func, helpers):
                sites.append(_site(source, node, resolver))
    return sorted(sites, key=lambda site: site.location)


def _helper_aliases(tree: ast.Module) -> frozenset[str]:
    """Bare names that call a publishing function in this file (``as`` aliases included)."""
    names = set(PUBLISH_METHODS | AFTER_COMMIT_HELPERS)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.asname and alias.name in PUBLISH_METHODS | AFTER_COMMIT_HELPERS:
                    names.add(alias.asname)
    return frozenset(names)


def _is_publish(func: ast.expr, helpers: frozenset[str]) -> bool:
    if isinstance(func, ast.Name):
        return func.id in helpers
    if isinstance(func, ast.Attribute):
        return func.attr in PUBLISH_METHODS | AFTER_COMMIT_HELPERS
    return False


def _site(source: SourceFile, call: ast.Call, resolver: NameResolver) -> PublishSite:
    argument = _name_argument(call)
    names = resolver.resolve(argument) if argument is not None else None
    return PublishSite(
        location=source.at(call),
        component=source.component,
        call=ast.unparse(call.func),
        names=names or (),
        expression=ast.unparse(argument) if argument is not None else "",
    )


def _name_argument(call: ast.Call) -> ast.expr | None:
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    for keyword in call.keywords:
        if keyword.arg == _NAME_KEYWORD:
            return keyword.value
    return None
