"""The bus's settings: each lives on the part it governs, and the bus shows it read-only.

``EventBus.configure`` applies settings through :func:`apply_settings`, which writes each one
to its part (the registry: routing, transports, strict mode; the validator: validation, size
and depth limits, the declared-shape check; the in-process transport: the failure policy).
``bus.strict``, ``bus.validate``… are :class:`Setting` descriptors that read them back, so
there is one place a setting is stored and one place it is changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, Never, TypeVar, overload

from .inprocess import InProcessTransport
from .registry import SubscriptionRegistry
from .routing import Router
from .transport import Transport
from .validation import PayloadCheck, PayloadValidator

__all__ = ["UNSET", "Setting", "Unset", "apply_settings"]

Owner = TypeVar("Owner")
Value = TypeVar("Value")


class Unset:
    """The type of :data:`UNSET`: "argument not given" where ``None`` means something."""


UNSET = Unset()
"""``schema_check=UNSET`` leaves the check unchanged (``None`` removes it)."""


class Setting(Generic[Owner, Value]):
    """A read-only attribute whose value is ``read(owner)``; the docstring is ``doc``.

    Assigning to it raises ``AttributeError`` (and mypy refuses it): settings change through
    ``EventBus.configure``.
    """

    def __init__(self, read: Callable[[Owner], Value], doc: str) -> None:
        self._read = read
        self.__doc__ = doc
        self._name = "setting"

    def __set_name__(self, owner: type[Owner], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type[Owner]) -> Setting[Owner, Value]: ...
    @overload
    def __get__(self, obj: Owner, owner: type[Owner]) -> Value: ...
    def __get__(self, obj: Owner | None, owner: type[Owner]) -> Value | Setting[Owner, Value]:
        return self if obj is None else self._read(obj)

    def __set__(self, obj: Owner, value: Never) -> None:
        raise AttributeError(f"{self._name} is read-only: change it with configure()")


def apply_settings(
    registry: SubscriptionRegistry,
    validator: PayloadValidator,
    inprocess: InProcessTransport,
    *,
    router: Router | None,
    transports: Mapping[str, Transport] | None,
    strict: bool | None,
    validate: bool | None,
    max_payload_bytes: int | None,
    max_json_depth: int | None,
    log_full_errors: bool | None,
    raise_handler_errors: bool | None,
    schema_check: PayloadCheck | Unset | None,
) -> None:
    """Write each given setting to its part (``None``, and ``UNSET`` for ``schema_check``,
    leave it unchanged), then re-route the registry's subscriptions."""
    if validate is not None:
        validator.validate = validate
    if max_payload_bytes is not None:
        validator.max_payload_bytes = max_payload_bytes
    if max_json_depth is not None:
        validator.max_json_depth = max_json_depth
    if not isinstance(schema_check, Unset):
        validator.schema_check = schema_check
    if log_full_errors is not None:
        inprocess.log_full_errors = log_full_errors
    if raise_handler_errors is not None:
        inprocess.raise_handler_errors = raise_handler_errors
    registry.configure(router=router, transports=transports, strict=strict)
