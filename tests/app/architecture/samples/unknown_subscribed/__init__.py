"""A module subscribing to names EventType does not declare (the loader refuses it too)."""
