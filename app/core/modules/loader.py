"""The module loader: discover, validate, order, mount (``_mount_modules``).

Every problem is collected and reported at once, at start-up, as a :class:`ModuleLoadError`:
an unknown name in ``ENABLED_MODULES``, a duplicate module name, a missing dependency (naming
every dependent), a dependency cycle, a handler for an event not in ``EventType``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Flask

from app.core.events import EventBus, event_bus
from app.core.events.exceptions import ModuleLoadError
from app.core.events.subscriptions import Handler, matches, pattern_is_wildcard

from .base import BaseModule

__all__ = ["LOADER", "discover_modules", "handler_id_for", "mount_modules", "order_modules"]

LOADER = "loader"


def discover_modules(package: str) -> list[BaseModule]:
    """One instance of each ``BaseModule`` subclass defined in a subpackage of ``package``."""
    root = importlib.import_module(package)
    found: list[BaseModule] = []
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda item: item.name):
        if not info.ispkg or info.name.startswith("_"):
            continue
        pkg = importlib.import_module(f"{package}.{info.name}")
        for _, cls in inspect.getmembers(pkg, inspect.isclass):
            if (
                issubclass(cls, BaseModule)
                and cls is not BaseModule
                and cls.__module__ == pkg.__name__
            ):
                found.append(cls())
    return found


def order_modules(modules: Sequence[BaseModule], enabled: Iterable[str] | None) -> list[BaseModule]:
    """The enabled modules in dependency order; :class:`ModuleLoadError` lists every problem."""
    problems: list[str] = []
    by_name: dict[str, BaseModule] = {}
    for module in modules:
        name = module.manifest.name
        if name in by_name:
            problems.append(
                f"duplicate module name {name!r}: {type(by_name[name]).__module__} "
                f"and {type(module).__module__}"
            )
        by_name[name] = module
    wanted = list(by_name) if enabled is None else list(dict.fromkeys(enabled))
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        problems.append(
            f"ENABLED_MODULES names unknown module(s) {', '.join(unknown)}; "
            f"found: {', '.join(sorted(by_name))}"
        )
    chosen = {name: by_name[name] for name in wanted if name in by_name}
    missing: dict[str, list[str]] = {}
    for name, module in chosen.items():
        for dep in module.manifest.depends:
            if dep not in chosen:
                missing.setdefault(dep, []).append(name)
    for dep, dependents in missing.items():
        # a module found but not chosen: ENABLED_MODULES left it out (and says so first)
        state, key = ("not enabled", "ENABLED_MODULES: ") if dep in by_name else ("not found", "")
        problems.append(
            f"{key}module {dep!r} is {state}, but {', '.join(sorted(dependents))} "
            f"depend{'s' if len(dependents) == 1 else ''} on it"
        )
    ordered = _topological(chosen, problems)
    if problems:
        raise ModuleLoadError("cannot load modules:\n  - " + "\n  - ".join(problems))
    return ordered


def _topological(chosen: dict[str, BaseModule], problems: list[str]) -> list[BaseModule]:
    ordered: list[BaseModule] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycle = [*path[path.index(name) :], name]
            problems.append(f"dependency cycle: {' -> '.join(cycle)}")
            return
        state[name] = "active"
        for dep in chosen[name].manifest.depends:
            if dep in chosen:
                visit(dep, [*path, name])
        state[name] = "done"
        ordered.append(chosen[name])

    for name in sorted(chosen):
        visit(name, [])
    return ordered


def handler_id_for(module: BaseModule, handler: Handler) -> str:
    """``<module>.<function>``: the stable id of a module's handler."""
    func: Any = getattr(handler, "__func__", handler)
    name = getattr(func, "__name__", None)
    if not name or name == "<lambda>":
        raise ModuleLoadError(
            f"module {module.manifest.name!r} returned a handler without a name ({handler!r}): "
            "use a def function or method, so workers can find it by id"
        )
    return f"{module.manifest.name}.{name.lstrip('_')}"


def mount_modules(app: Flask, bus: EventBus = event_bus) -> list[BaseModule]:
    """Discover, validate and mount the enabled modules; wire their handlers on ``bus``.

    Subscriptions made by an earlier mount (another ``create_app`` in this process) are
    replaced. Returns the mounted modules in dependency order.
    """
    found = discover_modules(app.config["MODULES_PACKAGE"])
    modules = order_modules(found, app.config["ENABLED_MODULES"])
    wiring = _handlers(modules, bus)
    bus.remove_owned(LOADER)
    for module in modules:
        blueprint = module.get_blueprint()
        if blueprint is not None:
            app.register_blueprint(blueprint)
        module.init_app(app)
    for pattern, handler, handler_id in wiring:
        bus.subscribe(pattern, handler, handler_id=handler_id, owner=LOADER)
    app.extensions["modules"] = {module.manifest.name: module for module in modules}
    return modules


def _handlers(modules: Sequence[BaseModule], bus: EventBus) -> list[tuple[str, Handler, str]]:
    """Every (pattern, handler, id) to wire, checking names first so nothing is half-wired."""
    problems: list[str] = []
    wiring: list[tuple[str, Handler, str]] = []
    known = bus.known_events
    for module in modules:
        for pattern, handler in module.get_event_handlers().items():
            valid = (
                any(matches(pattern, name) for name in known)
                if pattern_is_wildcard(pattern)
                else pattern in known
            )
            if bus.strict and not valid:
                problems.append(
                    f"module {module.manifest.name!r} subscribes to {pattern!r}, "
                    "which is not a member of EventType"
                )
                continue
            try:
                wiring.append((str(pattern), handler, handler_id_for(module, handler)))
            except ModuleLoadError as exc:
                problems.append(str(exc))
    if problems:
        raise ModuleLoadError("cannot load modules:\n  - " + "\n  - ".join(problems))
    return wiring
