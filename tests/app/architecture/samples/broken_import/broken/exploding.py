"""Fails on import, like a module with a bad import or a typo at top level."""

raise RuntimeError("this sample module fails to import")

VERSION = "unreachable"
