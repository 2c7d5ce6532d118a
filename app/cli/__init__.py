"""``flask events ...`` (the bus) and ``flask db ...`` (migrations). One command per file."""

from . import (
    asyncapi,  # noqa: F401  (registers `events asyncapi`)
    catalog,  # noqa: F401  (registers `events catalog`)
    check,  # noqa: F401  (registers `events check`)
    dlq,  # noqa: F401  (registers `events dlq ...`)
    health,  # noqa: F401  (registers `events health`)
    listing,  # noqa: F401  (registers `events list`)
    relay,  # noqa: F401  (registers `events relay`)
    rq_command,  # noqa: F401  (registers `events rq-command`)
    rq_worker,  # noqa: F401  (registers `events rq-worker`)
    stats,  # noqa: F401  (registers `events stats`)
    worker,  # noqa: F401  (registers `events worker`)
)
from .db import db_cli
from .group import events_cli

__all__ = ["db_cli", "events_cli"]
