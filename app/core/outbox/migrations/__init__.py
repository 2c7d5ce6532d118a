"""The outbox tables' migration history: the Alembic branch ``outbox``.

See docs/deployment.md.
"""
