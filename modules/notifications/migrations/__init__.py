"""The notifications module's migration history: the Alembic branch ``notifications``.

See docs/deployment.md.
"""
