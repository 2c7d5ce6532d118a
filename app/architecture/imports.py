"""Import rules: modules import each other only along ``manifest.depends``; ``app/`` never
imports a broker library.

The import graph comes from ``grimp`` (every ``import`` statement, including those inside
functions and under ``TYPE_CHECKING``), read from source, nothing imported. Imports by string
(``importlib.import_module("modules.x")``, ``__import__("modules.x")``) are invisible to
grimp, so a small ``ast`` pass adds them, resolving a relative name the way importlib does:
against ``import_module``'s ``package`` argument (a literal, or ``__package__``), or
``__import__``'s ``level``. A non-literal one cannot be judged and is a warning.
``grimp`` (the ``architecture`` extra): it is imported when a check runs, never by the app.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .findings import Finding, Location, relative
from .inventory import ModuleInfo
from .sources import SourceFile, package_directory

__all__ = ["BROKER_LIBRARIES", "boundary_findings", "forbidden_import_findings"]

BROKER_LIBRARIES = ("redis", "rq")
"""Only ``transports/`` may import these; ``app/`` never does."""

_IMPORTERS = frozenset({"import_module", "__import__"})
_OWN_PACKAGE = frozenset({"__package__", "__spec__.parent"})
"""Package arguments that name the calling module's own package."""


def boundary_findings(
    package: str, files: Iterable[SourceFile], modules: Mapping[str, ModuleInfo]
) -> list[Finding]:
    """An error for each import of module ``Y`` by module ``X`` where ``Y`` is not in ``X``'s
    ``manifest.depends``. ``modules`` maps module directory → module; files in a directory
    that is no module (``_shared/``...) are neither checked nor protected."""
    by_module = {source.module: source for source in files}
    findings: list[Finding] = []
    graph = _graph(package.partition(".")[0], external=False)
    for source in by_module.values():
        if source.module not in graph.modules:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(source.module)):
            problem = _violation(package, source.component, imported, modules)
            if problem is None:
                continue
            for detail in graph.get_import_details(importer=source.module, imported=imported):
                findings.append(Finding.error(Location(source.rel, detail["line_number"]), problem))
    for source in by_module.values():
        for node, target in _string_imports(source):
            if target is None:
                call = ast.unparse(node)
                message = f"cannot check a dynamic import: {call}"
                findings.append(Finding.warning(source.at(node), message))
                continue
            problem = _violation(package, source.component, target, modules, " (by string)")
            if problem is not None:
                findings.append(Finding.error(source.at(node), problem))
    return findings


def forbidden_import_findings(
    package: str = "app", forbidden: Iterable[str] = BROKER_LIBRARIES
) -> list[Finding]:
    """An error for each direct import of a ``forbidden`` library by a module of ``package``."""
    banned = frozenset(forbidden)
    graph = _graph(package.partition(".")[0], external=True)
    findings: list[Finding] = []
    for importer in sorted(graph.modules):
        if importer != package and not importer.startswith(package + "."):
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            library = imported.partition(".")[0]
            if library not in banned:
                continue
            path = _module_path(importer)
            for detail in graph.get_import_details(importer=importer, imported=imported):
                location = Location(path, detail["line_number"])
                message = (
                    f"{importer} imports {library}; only transports/ may import a broker library"
                )
                findings.append(Finding.error(location, message))
    return findings


def _violation(
    package: str,
    component: str,
    imported: str,
    modules: Mapping[str, ModuleInfo],
    how: str = "",
) -> str | None:
    """The message when ``component``'s import of ``imported`` breaks its depends, else None."""
    prefix = package + "."
    if not imported.startswith(prefix):
        return None
    target = imported[len(prefix) :].partition(".")[0]
    importer, owner = modules.get(component), modules.get(target)
    if importer is None or owner is None or target == component:
        return None
    if owner.name in importer.depends:
        return None
    declared = ", ".join(importer.depends) or "nothing"
    return (
        f"module {importer.name!r} imports {imported}{how}, but {owner.name!r} is not in its "
        f"manifest.depends (it depends on: {declared}); react to {owner.name}'s events instead, "
        f"or add {owner.name!r} to depends for a synchronous read"
    )


def _string_imports(source: SourceFile) -> Iterator[tuple[ast.Call, str | None]]:
    """``(call, absolute target or None when not a literal)`` for each import by string."""
    for node in ast.walk(source.tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name not in _IMPORTERS:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            yield node, None
        elif name == "__import__":
            yield node, _dunder_import_target(node, first.value, source.package)
        elif first.value.startswith("."):
            yield node, _relative_target(first.value, _argument(node, 1, "package"), source)
        else:
            yield node, first.value


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    """The call's argument at ``position`` or named ``keyword``, if given."""
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _relative_target(name: str, package: ast.expr | None, source: SourceFile) -> str | None:
    """``import_module(name, package)`` resolved as importlib does, or None when the package
    argument cannot be read (absent: importlib refuses the call; not a literal)."""
    if isinstance(package, ast.Constant) and isinstance(package.value, str):
        anchor = package.value
    elif package is not None and ast.unparse(package) in _OWN_PACKAGE:
        anchor = source.package
    else:
        return None
    try:
        return importlib.util.resolve_name(name, anchor)
    except ImportError:  # more leading dots than the package has parents
        return None


def _dunder_import_target(call: ast.Call, name: str, package: str) -> str | None:
    """``__import__(name, globals, locals, fromlist, level)``: absolute unless ``level`` > 0,
    then relative to the calling module's package; None when ``level`` is not a literal."""
    level = _argument(call, 4, "level")
    if level is None:
        return name
    if not (isinstance(level, ast.Constant) and isinstance(level.value, int)):
        return None
    if level.value <= 0:
        return name
    try:
        return importlib.util.resolve_name("." * level.value + name, package)
    except ImportError:
        return None


def _graph(top_level: str, *, external: bool) -> Any:
    try:
        import grimp
    except ImportError as exc:  # pragma: no cover (grimp ships with the architecture extra)
        raise RuntimeError(
            "the import checks need grimp: pip install 'flask-eventbus[architecture]'"
        ) from exc
    return grimp.build_graph(top_level, include_external_packages=external, cache_dir=None)


def _module_path(module: str) -> str:
    top, _, rest = module.partition(".")
    base = package_directory(top).joinpath(*rest.split(".")) if rest else package_directory(top)
    candidate = base / "__init__.py" if base.is_dir() else Path(f"{base}.py")
    return relative(candidate)
