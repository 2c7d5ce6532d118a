"""The patient_timeline module's migration history: the Alembic branch ``patient_timeline``.

See docs/deployment.md.
"""
