"""One analysis of a modules package, shared by ``events check``, ``catalog`` and ``list``.

:func:`analyse` reads every source file of the package (publish calls, subscription sites)
and inventories its modules (manifests, handlers with their routed transport). It needs no
app and no broker: :func:`analyse_app` only takes the package name and the router from an
app that is already built. Nothing is subscribed, mounted or written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask

import transports as transport_registry
from app.core.events.bus import INPROCESS
from app.core.events.routing import Router
from app.core.events.subscriptions import matches

from .findings import Finding
from .inventory import Consumer, Inventory, ModuleInfo, load_inventory
from .publishers import PublishSite, find_publish_sites
from .sources import SourceFile, read_package
from .subscribers import SubscriptionSite, find_subscription_sites

__all__ = ["Analysis", "analyse", "analyse_app", "default_router"]


@dataclass
class Analysis:
    """What the source and the modules of ``package`` say (see the module docstring)."""

    package: str
    files: list[SourceFile]
    publishers: list[PublishSite]
    subscriptions: list[SubscriptionSite]
    inventory: Inventory
    parse_problems: list[Finding]
    default_transport: str = INPROCESS
    routes: Mapping[str, str] | None = None

    @property
    def modules(self) -> list[ModuleInfo]:
        """The modules found, sorted by name."""
        return sorted(self.inventory.modules, key=lambda module: module.name)

    def module_name(self, component: str) -> str:
        """The manifest name of the module in directory ``component`` (the directory name
        when it holds no module, ``"-"`` for a file directly in the package)."""
        module = self.inventory.by_directory().get(component)
        if module is not None:
            return module.name
        return component or "-"

    def publishers_of(self, event: str) -> list[PublishSite]:
        """The resolved publish calls of ``event``."""
        return [site for site in self.publishers if any(n.value == event for n in site.names)]

    def consumers_of(self, event: str) -> list[Consumer]:
        """The module handlers ``event`` is delivered to (wildcards included), by handler id."""
        found = [c for c in self.inventory.consumers if matches(c.pattern, event)]
        return sorted(found, key=lambda consumer: (consumer.handler_id, consumer.pattern))

    def statically_subscribed(self, event: str) -> bool:
        """Whether a resolved subscription site in the source names or matches ``event``."""
        return any(matches(name.value, event) for site in self.subscriptions for name in site.names)


def default_router() -> Router:
    """The router of the default configuration: every handler in-process."""
    return Router(INPROCESS, {}, transport_registry.TRANSPORT_MODULES)


def analyse(
    package: str, router: Router | None = None, routes: Mapping[str, str] | None = None
) -> Analysis:
    """Analyse ``package``; ``router`` decides each handler's transport (default: in-process).

    Raises ``ModuleNotFoundError`` only when ``package`` itself does not exist; every problem
    inside it is a finding.
    """
    chosen = router or default_router()
    files, problems = read_package(package)
    return Analysis(
        package=package,
        files=files,
        publishers=find_publish_sites(files),
        subscriptions=find_subscription_sites(files),
        inventory=load_inventory(package, chosen),
        parse_problems=problems,
        default_transport=chosen.default,
        routes=dict(routes or {}),
    )


def analyse_app(app: Flask) -> Analysis:
    """Analyse ``app``'s ``MODULES_PACKAGE`` with ``app``'s router and routes."""
    state: Any = app.extensions["eventbus"]
    return analyse(
        str(app.config["MODULES_PACKAGE"]), state.router, dict(app.config["EVENTBUS_ROUTES"])
    )
