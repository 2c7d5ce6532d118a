"""The billing module's migration history: the Alembic branch ``billing``.

See docs/deployment.md.
"""
