"""Modules: blueprints that talk to each other through events (ADR 0003)."""

from .base import BaseModule, Manifest
from .loader import discover_modules, handler_id_for, mount_modules, order_modules

__all__ = [
    "BaseModule",
    "Manifest",
    "discover_modules",
    "handler_id_for",
    "mount_modules",
    "order_modules",
]
