"""The router: which transport runs each handler (``EVENTBUS_TRANSPORT``, ``EVENTBUS_ROUTES``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from fnmatch import fnmatchcase

from .exceptions import ConfigurationError

__all__ = ["Router"]


class Router:
    """Maps a handler id to a transport name.

    ``routes`` maps handler-id patterns (shell style: ``"notifications.*"``) to transport
    names; among the patterns that match an id, the longest wins; an id no pattern matches
    goes to ``default``. Every name must be one of ``valid``, else :class:`ConfigurationError`
    lists them all.
    """

    def __init__(self, default: str, routes: Mapping[str, str], valid: Collection[str]) -> None:
        problems = []
        if default not in valid:
            problems.append(f"EVENTBUS_TRANSPORT={default!r}")
        problems += [
            f"EVENTBUS_ROUTES[{pattern!r}]={name!r}"
            for pattern, name in routes.items()
            if name not in valid
        ]
        if problems:
            raise ConfigurationError(
                f"unknown transport in {', '.join(problems)}; "
                f"valid transports: {', '.join(sorted(valid))}"
            )
        self.default = default
        self._routes = sorted(routes.items(), key=lambda item: -len(item[0]))

    def transport_for(self, handler_id: str) -> str:
        """The transport name for ``handler_id``."""
        for pattern, name in self._routes:
            if fnmatchcase(handler_id, pattern):
                return name
        return self.default

    def transport_names(self) -> set[str]:
        """Every transport some route or the default names."""
        return {self.default, *(name for _, name in self._routes)}
