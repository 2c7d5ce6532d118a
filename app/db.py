"""The SQLAlchemy handle shared by every module (each module owns its own tables)."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

__all__ = ["Model", "db"]


class Model(DeclarativeBase):
    """Base class of every module's models."""


db = SQLAlchemy(model_class=Model)
