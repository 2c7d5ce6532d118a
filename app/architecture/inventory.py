"""The inventory: the modules of a package, their manifests and handlers, loaded tolerantly.

It discovers modules the way the loader does (``app.core.modules.loader.discover_modules``: a
``BaseModule`` subclass defined in each non-underscore subpackage) but one subpackage at a
time, so one module that fails to import, or whose ``get_event_handlers`` raises, becomes a
finding and the others are still inventoried. It never subscribes anything, mounts nothing
and does not need an app: the bus stays untouched. Handler ids come from the loader's own
``handler_id_for`` and transports from the router, so they are what the app would wire.
A module that fails to import keeps the manifest read from its source (see ``manifests.py``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from app.core.events.exceptions import ModuleLoadError
from app.core.events.routing import Router
from app.core.modules import BaseModule, handler_id_for, order_modules

from .findings import Finding, Location, relative
from .manifests import StaticManifest, read_manifest
from .sources import package_directory

__all__ = ["Consumer", "Inventory", "ModuleInfo", "load_inventory"]


@dataclass(frozen=True)
class ModuleInfo:
    """A module: manifest name, its directory under the package, version, ``depends``.

    ``loaded`` is false when it failed to import and the manifest was read from source.
    """

    name: str
    directory: str
    version: str
    depends: tuple[str, ...]
    description: str
    location: Location
    loaded: bool = True


@dataclass(frozen=True, order=True)
class Consumer:
    """A handler a module subscribes to ``pattern`` (a name or a wildcard)."""

    pattern: str
    handler_id: str
    transport: str
    module: str


@dataclass
class Inventory:
    """Every module found, every consumer, and every problem met while loading them."""

    package: str
    modules: list[ModuleInfo] = field(default_factory=list)
    consumers: list[Consumer] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    handler_methods: dict[str, Location] = field(default_factory=dict)

    def by_directory(self) -> dict[str, ModuleInfo]:
        """Module directory name → module."""
        return {module.directory: module for module in self.modules}

    def failed(self) -> set[str]:
        """Directories of the modules that could not be imported."""
        return {module.directory for module in self.modules if not module.loaded}


def load_inventory(package: str, router: Router) -> Inventory:
    """Inventory ``package`` (see the module docstring). Never raises for a broken module."""
    inventory = Inventory(package)
    root = package_directory(package)
    instances: list[BaseModule] = []
    for info in sorted(pkgutil.iter_modules([str(root)]), key=lambda item: item.name):
        if not info.ispkg or info.name.startswith("_"):
            continue
        init = root / info.name / "__init__.py"
        try:
            imported = importlib.import_module(f"{package}.{info.name}")
        except Exception as exc:
            inventory.problems.append(_import_failure(f"{package}.{info.name}", init, exc))
            manifest = read_manifest(init)
            if manifest is not None:
                inventory.modules.append(_from_source(manifest, info.name, init))
            continue
        for module in _modules_in(imported):
            instances.append(module)
            inventory.modules.append(_describe(module, info.name))
            _add_consumers(inventory, module, router)
    try:
        order_modules(instances, None)
    except ModuleLoadError as exc:
        reasons = "; ".join(line.strip(" -") for line in str(exc).splitlines()[1:])
        location = Location(relative(root / "__init__.py"), 1)
        inventory.problems.append(
            Finding.error(location, f"the module loader refuses {package}: {reasons}")
        )
    inventory.consumers.sort()
    return inventory


def _modules_in(package: ModuleType) -> list[BaseModule]:
    return [
        cls()
        for _, cls in inspect.getmembers(package, inspect.isclass)
        if issubclass(cls, BaseModule)
        and cls is not BaseModule
        and cls.__module__ == package.__name__
    ]


def _describe(module: BaseModule, directory: str) -> ModuleInfo:
    manifest = module.manifest
    cls = type(module)
    return ModuleInfo(
        name=manifest.name,
        directory=directory,
        version=manifest.version,
        depends=tuple(manifest.depends),
        description=manifest.description,
        location=_where(cls) or Location("?", 1),
    )


def _from_source(manifest: StaticManifest, directory: str, init: Path) -> ModuleInfo:
    return ModuleInfo(
        name=manifest.name or directory,
        directory=directory,
        version=manifest.version,
        depends=manifest.depends,
        description="",
        location=Location(relative(init), manifest.line),
        loaded=False,
    )


def _add_consumers(inventory: Inventory, module: BaseModule, router: Router) -> None:
    name = module.manifest.name
    method = getattr(type(module), "get_event_handlers", None)
    where = _where(method) or _where(type(module)) or Location("?", 1)
    inventory.handler_methods[name] = where
    try:
        handlers = module.get_event_handlers()
    except Exception as exc:
        message = f"{name}.get_event_handlers() raised {type(exc).__name__}: {exc}"
        inventory.problems.append(Finding.error(where, message))
        return
    for pattern, handler in handlers.items():
        try:
            handler_id = handler_id_for(module, handler)
        except ModuleLoadError as exc:
            inventory.problems.append(Finding.error(where, str(exc)))
            continue
        transport = router.transport_for(handler_id)
        inventory.consumers.append(Consumer(str(pattern), handler_id, transport, name))


def _where(obj: object) -> Location | None:
    """Where ``obj`` (a class or function) is defined, if Python can tell."""
    try:
        target = inspect.unwrap(obj)  # type: ignore[arg-type]
        path = inspect.getsourcefile(target)
        line = inspect.getsourcelines(target)[1]
    except (TypeError, OSError, ValueError):
        return None
    return Location(relative(path), line) if path else None


def _import_failure(package: str, init: Path, exc: Exception) -> Finding:
    """The failure at the deepest line inside the module's own directory, if any."""
    directory = init.parent.resolve()
    location = Location(relative(init), 1)
    if isinstance(exc, SyntaxError) and exc.filename:
        location = Location(relative(exc.filename), exc.lineno or 1)
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            if Path(frame.filename).resolve().is_relative_to(directory):
                location = Location(relative(frame.filename), frame.lineno or 1)
    detail = f"{type(exc).__name__}: {exc}"
    return Finding.error(location, f"module {package} fails to import: {detail}")
