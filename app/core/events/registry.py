"""The subscription registry: who receives which events, through which transport.

:class:`SubscriptionRegistry` keeps the subscriptions, the router, the configured remote
transports and the known event names, and turns them into immutable
:class:`~app.core.events.plans.DispatchPlan`s, one per event name, cached until the next
change. The bus owns one; nothing else writes to it.

Thread safety: every change takes a lock, replaces the subscription tuple (readers never see
it change under them) and drops the plan cache. :meth:`plan` and :meth:`call` read without
locking and may run on any number of threads; a plan built while subscriptions change lands
in the dropped cache only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace

from .exceptions import ConfigurationError, DuplicateHandlerError, UnknownHandlerError
from .plans import (
    INPROCESS,
    DispatchPlan,
    build_plan,
    call_of,
    check_name,
    check_pattern,
    same_callable,
    subscriptions_for,
)
from .routing import Router
from .subscriptions import AnyHandler, Handler, Subscription, default_handler_id, takes_envelope
from .transport import Transport
from .types import KNOWN_EVENTS

__all__ = ["SubscriptionRegistry"]

_PLAN_CACHE_LIMIT = 4096  # names beyond it (non-strict mode) are planned on every publish


class SubscriptionRegistry:
    """Subscriptions, routing and known names, and the dispatch plans derived from them."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._subscriptions: tuple[Subscription, ...] = ()
        self._router = Router(INPROCESS, {}, {INPROCESS})
        self._transports: dict[str, Transport] = {}
        self._calls: dict[str, Handler] = {}
        self.known: frozenset[str] = frozenset(KNOWN_EVENTS)
        """The names accepted in strict mode (and expanded for remote wildcards)."""
        self.strict = True
        self.plans: dict[str, DispatchPlan] = {}
        """The cached plans by event name; read it, never write it (see :meth:`plan`)."""

    # -- settings --------------------------------------------------------------------------------

    def configure(
        self,
        *,
        router: Router | None = None,
        transports: Mapping[str, Transport] | None = None,
        strict: bool | None = None,
    ) -> None:
        """Apply settings (``None`` leaves one unchanged) and re-route every subscription that
        was not made with an explicit transport."""
        with self._lock:
            if router is not None:
                self._router = router
            if transports is not None:
                self._transports = dict(transports)
            if strict is not None:
                self.strict = strict
            self._replace(tuple(self._routed(sub) for sub in self._subscriptions))

    @property
    def router(self) -> Router:
        """The router in force."""
        return self._router

    @property
    def transports(self) -> Mapping[str, Transport]:
        """The configured remote transports by name."""
        return dict(self._transports)

    # -- subscriptions ---------------------------------------------------------------------------

    def subscribe(
        self,
        event_type: str,
        handler: AnyHandler,
        *,
        handler_id: str | None = None,
        transport: str | None = None,
        owner: str = "",
    ) -> str:
        """Add a subscription (see :meth:`EventBus.subscribe`); return its handler id."""
        check_pattern(event_type, self.known, self.strict)
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
                handler_id,
                str(event_type),
                handler,
                name,
                owner,
                pinned=transport is not None,
                receives_envelope=takes_envelope(handler),
            )
            if sub not in self._subscriptions:
                self._replace((*self._subscriptions, sub))
        return handler_id

    def unsubscribe(self, event_type: str, handler: AnyHandler) -> None:
        """Remove ``handler``'s subscription to ``event_type``; a no-op if there is none."""
        with self._lock:
            kept = tuple(
                sub
                for sub in self._subscriptions
                if not (sub.pattern == event_type and same_callable(sub.handler, handler))
            )
            if len(kept) != len(self._subscriptions):
                self._replace(kept)

    def remove_owned(self, owner: str) -> None:
        """Remove the subscriptions made with ``owner``."""
        with self._lock:
            self._replace(tuple(sub for sub in self._subscriptions if sub.owner != owner))

    def restore(self, subscriptions: Iterable[Subscription]) -> None:
        """Replace every subscription with ``subscriptions``."""
        with self._lock:
            self._replace(tuple(subscriptions))

    def clear(self) -> None:
        """Remove every subscription."""
        with self._lock:
            self._replace(())

    def subscriptions(self) -> tuple[Subscription, ...]:
        """Every subscription, in subscription order."""
        return self._subscriptions

    def subscriptions_for(self, event_type: str) -> tuple[Subscription, ...]:
        """The subscriptions an event named ``event_type`` reaches, one per handler id."""
        return subscriptions_for(self._subscriptions, event_type)

    # -- what publish and deliver read -----------------------------------------------------------

    def plan(self, event_type: str) -> DispatchPlan:
        """The plan of ``event_type``; :class:`UnknownEventError` for a bad name (strict)."""
        plan = self.plans.get(event_type)
        if plan is not None:
            return plan
        check_name(event_type, self.known, self.strict)
        # Take the cache before reading subscriptions: if they change meanwhile, this plan
        # lands in the dropped cache, never in the new one.
        plans = self.plans
        plan = build_plan(self._subscriptions, event_type, self._transport)
        if len(plans) < _PLAN_CACHE_LIMIT:
            plans[event_type] = plan
        return plan

    def call(self, handler_id: str) -> Handler:
        """How to call the handler registered under ``handler_id`` with a payload (see
        :func:`~app.core.events.plans.call_of`); :class:`UnknownHandlerError` if none."""
        try:
            return self._calls[handler_id]
        except KeyError:
            raise UnknownHandlerError(
                f"no handler {handler_id!r} is registered in this process"
            ) from None

    # -- internals -------------------------------------------------------------------------------

    def _replace(self, subscriptions: tuple[Subscription, ...]) -> None:
        """Install ``subscriptions`` and drop what was derived from the old ones (locked)."""
        self._subscriptions = subscriptions
        self._calls = {sub.handler_id: call_of(sub) for sub in subscriptions}
        self.plans = {}

    def _routed(self, sub: Subscription) -> Subscription:
        if sub.pinned:
            return sub
        return replace(sub, transport=self._router.transport_for(sub.handler_id))

    def _transport(self, name: str) -> Transport:
        try:
            return self._transports[name]
        except KeyError:
            raise ConfigurationError(
                f"transport {name!r} is routed to but not configured"
            ) from None
