"""The bus's subscriptions and settings: the seed's subscribe / unsubscribe / clear, and
``configure``.

:class:`SubscriptionRegistry` is mixed into :class:`~app.core.events.bus.EventBus`. Every
change takes the bus's lock, replaces the subscription list (readers never see it change
under them) and calls the bus's ``_changed``, which rebuilds the handler registry and drops
the dispatch plans; ``publish`` reads without locking.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from .exceptions import ConfigurationError, DuplicateHandlerError
from .plans import INPROCESS, check_pattern, same_callable, subscriptions_for
from .routing import Router
from .subscriptions import Handler, Subscription, default_handler_id
from .transport import Transport

__all__ = ["UNSET", "PayloadCheck", "SubscriptionRegistry"]

PayloadCheck = Callable[[str, dict[str, Any]], None]
"""A declared-shape check: raises an ``EventValidationError`` for a payload that does not fit."""


class _Unset:
    """The type of :data:`UNSET`: "argument not given" where ``None`` means something."""


UNSET = _Unset()


class SubscriptionRegistry:
    """Subscriptions, routing and the settings ``publish`` obeys."""

    _lock: threading.RLock
    _subscriptions: list[Subscription]
    _known: frozenset[str]
    _router: Router
    _transports: dict[str, Transport]
    _schema_check: PayloadCheck | None
    strict: bool
    validate: bool
    max_payload_bytes: int
    raise_handler_errors: bool

    def _changed(self) -> None:
        """Rebuild what depends on the subscriptions (defined by the bus)."""
        raise NotImplementedError

    def configure(
        self,
        *,
        router: Router | None = None,
        transports: Mapping[str, Transport] | None = None,
        strict: bool | None = None,
        validate: bool | None = None,
        max_payload_bytes: int | None = None,
        raise_handler_errors: bool | None = None,
        known_events: Iterable[str] | None = None,
        schema_check: PayloadCheck | _Unset | None = UNSET,
    ) -> None:
        """Apply settings (``None`` leaves one unchanged; ``schema_check=None`` removes the
        check) and re-route every subscription.

        ``transports`` maps names to ready transports; ``"inprocess"`` needs no entry.
        Subscriptions made with an explicit transport keep it; the others follow ``router``.
        """
        with self._lock:
            if router is not None:
                self._router = router
            if transports is not None:
                self._transports = dict(transports)
            if strict is not None:
                self.strict = strict
            if validate is not None:
                self.validate = validate
            if max_payload_bytes is not None:
                self.max_payload_bytes = max_payload_bytes
            if raise_handler_errors is not None:
                self.raise_handler_errors = raise_handler_errors
            if known_events is not None:
                self._known = frozenset(str(name) for name in known_events)
            if not isinstance(schema_check, _Unset):
                self._schema_check = schema_check
            self._subscriptions = [self._routed(sub) for sub in self._subscriptions]
            self._changed()

    @property
    def router(self) -> Router:
        """The router in force."""
        return self._router

    @property
    def transports(self) -> Mapping[str, Transport]:
        """The configured remote transports by name."""
        return dict(self._transports)

    @property
    def known_events(self) -> frozenset[str]:
        """The event names ``publish`` and ``subscribe`` accept in strict mode."""
        return self._known

    def subscribe(
        self,
        event_type: str,
        handler: Handler,
        *,
        handler_id: str | None = None,
        transport: str | None = None,
        owner: str = "",
    ) -> str:
        """Call ``handler(payload)`` for every event matching ``event_type``; return its id.

        ``event_type`` is a name or a wildcard (``"patient.*"``, ``"*"``); in strict mode it
        must name, or match, a member of ``EventType``. ``handler_id`` defaults to the
        handler's ``module.qualname``; one id always names one callable. ``transport``
        overrides the router. A handler subscribed through several matching patterns still
        runs once per event.
        """
        check_pattern(event_type, self._known, self.strict)
        with self._lock:
            existing = {sub.handler_id: sub for sub in self._subscriptions}
            if handler_id is None:
                same = [s for s in existing.values() if same_callable(s.handler, handler)]
                handler_id = same[0].handler_id if same else default_handler_id(handler, existing)
            elif handler_id in existing and not same_callable(
                existing[handler_id].handler, handler
            ):
                raise DuplicateHandlerError(
                    f"handler id {handler_id!r} already names {existing[handler_id].handler!r}"
                )
            name = transport or self._router.transport_for(handler_id)
            if name != INPROCESS and name not in self._transports:
                raise ConfigurationError(
                    f"transport {name!r} for {handler_id!r} is not configured; "
                    f"configured: {', '.join(sorted({INPROCESS, *self._transports}))}"
                )
            sub = Subscription(
                handler_id, str(event_type), handler, name, owner, pinned=transport is not None
            )
            if sub not in self._subscriptions:
                self._subscriptions = [*self._subscriptions, sub]
                self._changed()
        return handler_id

    def unsubscribe(self, event_type: str, handler: Handler) -> None:
        """Stop calling ``handler`` for ``event_type``; a no-op if it was not subscribed."""
        with self._lock:
            kept = [
                sub
                for sub in self._subscriptions
                if not (sub.pattern == event_type and same_callable(sub.handler, handler))
            ]
            if len(kept) != len(self._subscriptions):
                self._subscriptions = kept
                self._changed()

    def remove_owned(self, owner: str) -> None:
        """Remove the subscriptions made with ``owner`` (the loader's, before re-wiring)."""
        with self._lock:
            self._subscriptions = [sub for sub in self._subscriptions if sub.owner != owner]
            self._changed()

    def restore(self, subscriptions: Iterable[Subscription]) -> None:
        """Replace every subscription with ``subscriptions`` (test fixtures' save/restore)."""
        with self._lock:
            self._subscriptions = list(subscriptions)
            self._changed()

    def clear(self) -> None:
        """Remove every subscription (the seed's test-fixture reset)."""
        with self._lock:
            self._subscriptions = []
            self._changed()

    def subscriptions(self) -> tuple[Subscription, ...]:
        """Every subscription, in subscription order."""
        return tuple(self._subscriptions)

    def subscriptions_for(self, event_type: str) -> tuple[Subscription, ...]:
        """The subscriptions an event named ``event_type`` reaches, one per handler id."""
        return subscriptions_for(self._subscriptions, event_type)

    def _routed(self, sub: Subscription) -> Subscription:
        if sub.pinned:
            return sub
        return replace(sub, transport=self._router.transport_for(sub.handler_id))
