"""The appointments module's migration history: the Alembic branch ``appointments``.

See docs/deployment.md.
"""
