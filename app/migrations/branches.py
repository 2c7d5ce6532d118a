"""Who owns which tables and migrations: one Alembic branch per owner.

The core's outbox tables are the ``outbox`` branch (``app/core/outbox/migrations``); each
module that has tables keeps its history in ``<module package>/migrations`` on a branch named
after the module, its inbox table (``<module>_inbox``) included. Only the branches of the
modules the app mounts take part: mounting a module adds its branch to the heads, and a module
taken out of ``ENABLED_MODULES`` leaves the others untouched (downgrade its branch to base
first, ``flask db downgrade <module>@base``, to drop its tables).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

__all__ = ["CORE_BRANCH", "Branch", "app_branches", "owner_of", "package_branches"]

CORE_BRANCH = "outbox"
_CORE_LOCATION = Path(__file__).resolve().parent.parent / "core" / "outbox" / "migrations"


@dataclass(frozen=True)
class Branch:
    """An Alembic branch: its label, the folder of its revisions, and its tables' prefix."""

    name: str
    location: Path
    table_prefix: str

    def owns(self, table: str) -> bool:
        """Whether ``table`` belongs to this branch (its name starts with the prefix)."""
        return table.startswith(self.table_prefix)


def app_branches(app: Flask) -> tuple[Branch, ...]:
    """The core's branch, then one per mounted module that has a ``migrations`` folder."""
    folders = {}
    for name, module in app.extensions.get("modules", {}).items():
        package = sys.modules[type(module).__module__]
        if package.__file__ is not None:
            folders[name] = Path(package.__file__).resolve().parent
    return _branches(folders)


def package_branches(package_dir: Path) -> tuple[Branch, ...]:
    """The core's branch and one per module folder of ``package_dir`` that has migrations,
    mounted or not (test fixtures stamp them all)."""
    return _branches({folder.name: folder for folder in package_dir.iterdir() if folder.is_dir()})


def _branches(module_folders: dict[str, Path]) -> tuple[Branch, ...]:
    branches = [Branch(CORE_BRANCH, _CORE_LOCATION, "eventbus_")]
    for name, folder in sorted(module_folders.items()):
        if (folder / "migrations").is_dir():
            branches.append(Branch(name, folder / "migrations", f"{name}_"))
    return tuple(branches)


def owner_of(table: str, branches: tuple[Branch, ...]) -> Branch | None:
    """The branch that owns ``table`` (the longest matching prefix), or ``None``."""
    owners = [branch for branch in branches if branch.owns(table)]
    return max(owners, key=lambda branch: len(branch.table_prefix), default=None)
