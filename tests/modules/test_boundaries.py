"""The clinic keeps its module boundaries: imports, tables, events.

- A module imports another module only if it lists it in ``manifest.depends``, and then only
  its public package (``modules.patients``), never its internals.
- Each module's tables are named ``<module>_...`` and no module mentions another's tables.
(The project-wide checker, ``flask events check``, generalises the first rule.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.core.modules import discover_modules
from app.db import Model

ROOT = Path(__file__).resolve().parents[2] / "modules"
MODULES = {module.manifest.name: module for module in discover_modules("modules")}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every ``modules.*`` name a file imports (also inside functions, and by string)."""
    found: list[tuple[int, str]] = []
    tree = ast.parse(path.read_text(), str(path))
    package = "modules." + path.relative_to(ROOT).parts[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = package if node.level == 1 else "modules"
                base = f"{base}.{node.module}" if node.module else base
            found.append((node.lineno, base))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"modules\.[a-z_]+(\.[a-z_]+)*", node.value)
        ):
            found.append((node.lineno, node.value))
    return [(line, name) for line, name in found if name.startswith("modules.")]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_stay_inside_the_declared_dependencies(name: str) -> None:
    allowed = set(MODULES[name].manifest.depends)
    problems = []
    for path in sorted((ROOT / name).rglob("*.py")):
        for line, imported in imported_modules(path):
            parts = imported.split(".")
            other = parts[1] if len(parts) > 1 else ""
            if other in ("", name):
                continue
            if other not in allowed:
                problems.append(f"{path.name}:{line} imports {imported} (not in depends)")
            elif len(parts) > 2:
                problems.append(f"{path.name}:{line} imports internals: {imported}")
    assert problems == []


def test_consumers_depend_on_nothing() -> None:
    assert MODULES["notifications"].manifest.depends == ()
    assert MODULES["patient_timeline"].manifest.depends == ()
    assert MODULES["appointments"].manifest.depends == ("patients",)
    assert MODULES["billing"].manifest.depends == ("patients",)


def test_each_module_owns_prefixed_tables_and_touches_no_other() -> None:
    owners: dict[str, str] = {}
    for mapper in Model.registry.mappers:
        cls = mapper.class_
        if not cls.__module__.startswith("modules."):
            continue
        module = cls.__module__.split(".")[1]
        table = str(getattr(mapper.local_table, "name", ""))
        assert table.startswith(f"{module}_"), f"{cls.__name__} -> {table}"
        owners[table] = module
    for name in MODULES:
        owners[f"{name}_inbox"] = name
    assert set(owners.values()) == set(MODULES)
    for path in ROOT.rglob("*.py"):
        module = path.relative_to(ROOT).parts[0]
        text = path.read_text()
        foreign = [t for t, owner in owners.items() if owner != module and t in text]
        assert foreign == [], f"{path.relative_to(ROOT)} mentions {foreign}"
