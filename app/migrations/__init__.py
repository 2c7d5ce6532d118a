"""Schema migrations with Alembic: one branch per module, the core's outbox in its own.

``flask --app wsgi db upgrade`` brings any database to head; no process creates tables at
start, and a web process or worker whose database is behind head refuses to start (one line
naming that command). See docs/deployment.md.
"""

from .branches import CORE_BRANCH, Branch, app_branches
from .chatter import quiet_alembic
from .commands import downgrade, model_differences, new_revision, stamp_heads, upgrade
from .status import UPGRADE_COMMAND, SchemaStatus, require_schema_at_head, schema_status

__all__ = [
    "CORE_BRANCH",
    "UPGRADE_COMMAND",
    "Branch",
    "SchemaStatus",
    "app_branches",
    "downgrade",
    "model_differences",
    "new_revision",
    "quiet_alembic",
    "require_schema_at_head",
    "schema_status",
    "stamp_heads",
    "upgrade",
]
