"""A relative import by string whose package argument names another module."""

import importlib
from types import ModuleType


def load_internals() -> ModuleType:
    return importlib.import_module(".internals", "tests.app.architecture.samples.boundary.alpha")


def load_by_keyword() -> ModuleType:
    return importlib.import_module(
        ".internals", package="tests.app.architecture.samples.boundary.alpha"
    )


def load_by_level() -> ModuleType:
    return __import__("alpha.internals", globals(), None, ["SECRET"], 2)
