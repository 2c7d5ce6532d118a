"""The source files of a package, parsed once with ``ast`` for every static check.

Reading the source (not importing it) is what lets the checks see a publish call in a function
that never ran and an import inside a function, and keep working when a module fails to import.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .findings import Finding, Location, relative

__all__ = ["SourceFile", "package_directory", "read_package"]


@dataclass(frozen=True)
class SourceFile:
    """One parsed ``.py`` file: its dotted module name, path, relative path and syntax tree.

    ``component`` is the first package below the scanned package (``"billing"`` for
    ``modules.billing.service``), or ``""`` for a file directly in the scanned package.
    """

    module: str
    path: Path
    rel: str
    tree: ast.Module
    component: str

    @property
    def package(self) -> str:
        """The package relative imports in this file resolve against."""
        if self.path.name == "__init__.py":
            return self.module
        return self.module.rpartition(".")[0]

    def at(self, node: ast.expr | ast.stmt) -> Location:
        """The location of ``node`` in this file."""
        return Location(self.rel, node.lineno)


def package_directory(package: str) -> Path:
    """The directory of ``package`` (importing its parents, not the package itself).

    Raises ``ModuleNotFoundError`` when there is no such package.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"no package named {package!r}")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def read_package(package: str) -> tuple[list[SourceFile], list[Finding]]:
    """Every ``.py`` file under ``package``, sorted by path; a file that does not parse is a
    finding (an error at the offending line) instead of a source file."""
    root = package_directory(package)
    files: list[SourceFile] = []
    problems: list[Finding] = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if any(part == "__pycache__" for part in parts):
            continue
        dotted = parts[:-1] if parts[-1] == "__init__" else parts
        module = ".".join((package, *dotted))
        component = parts[0] if len(parts) > 1 else ""
        rel = relative(path)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            location = Location(rel, exc.lineno or 1)
            problems.append(Finding.error(location, f"cannot parse {module}: {exc.msg}"))
            continue
        files.append(SourceFile(module, path, rel, tree, component))
    return files, problems
