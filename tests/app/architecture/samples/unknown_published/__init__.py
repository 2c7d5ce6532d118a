"""A module that publishes names EventType does not declare."""
