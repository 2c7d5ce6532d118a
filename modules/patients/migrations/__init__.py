"""The patients module's migration history: the Alembic branch ``patients``.

See docs/deployment.md.
"""
