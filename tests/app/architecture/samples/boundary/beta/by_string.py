"""Imports by string: one the checker judges, one it cannot."""

import importlib
from types import ModuleType


def load_internals() -> ModuleType:
    return importlib.import_module("tests.app.architecture.samples.boundary.alpha.internals")


def load(name: str) -> ModuleType:
    return importlib.import_module(name)
