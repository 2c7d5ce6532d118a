"""What ``env.py`` does, as a typed function: configure Alembic on the given connection."""

from __future__ import annotations

from typing import Any

__all__ = ["render_item", "run_migrations"]


def run_migrations(context: Any) -> None:
    """Run the command Alembic is executing on ``config.attributes["connection"]``.

    The connection is already in a transaction (and, on PostgreSQL, holds the migration lock),
    so Alembic runs every revision inside it; the caller commits.
    """
    attributes = context.config.attributes
    connection = attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=attributes["target_metadata"],
        include_object=attributes["include_object"],
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our column types as plain SQLAlchemy ones, so a revision never imports app code
    (``UtcDateTime`` is a ``DateTime(timezone=True)`` that converts values in Python)."""
    from sqlalchemy.types import TypeDecorator

    if type_ == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl_instance
        return f"sa.{impl!r}"
    return False
