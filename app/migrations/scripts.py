"""The Alembic configuration and script directory of an app (its mounted branches)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask

from app.db import db

from .branches import Branch, app_branches, owner_of

__all__ = [
    "SCRIPT_LOCATION",
    "alembic_config",
    "include_object_for",
    "script_directory",
    "scripts_of",
]

SCRIPT_LOCATION = Path(__file__).resolve().parent
"""This package: ``env.py`` and the template of new revisions."""


def alembic_config(app: Flask, **attributes: Any) -> Config:
    """A ``Config`` for ``app``'s branches; ``attributes`` reach ``env.py``."""
    branches = app_branches(app)
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option(
        "version_locations", os.pathsep.join(str(branch.location) for branch in branches)
    )
    config.set_main_option("path_separator", "os")
    config.attributes.update(
        target_metadata=db.metadata, include_object=include_object_for(branches), **attributes
    )
    return config


def script_directory(app: Flask) -> ScriptDirectory:
    """The revisions of ``app``'s branches (read once per set of branches and cached)."""
    return scripts_of(app_branches(app))


def scripts_of(branches: tuple[Branch, ...]) -> ScriptDirectory:
    """The revisions of ``branches`` (cached)."""
    return _scripts(tuple(str(branch.location) for branch in branches))


def include_object_for(branches: tuple[Branch, ...]) -> Any:
    """Alembic's ``include_object`` hook: compare only tables some mounted branch owns."""

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table is None or owner_of(str(table), branches) is not None

    return include_object


@lru_cache(maxsize=8)
def _scripts(locations: tuple[str, ...]) -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("version_locations", os.pathsep.join(locations))
    config.set_main_option("path_separator", "os")
    return ScriptDirectory.from_config(config)
