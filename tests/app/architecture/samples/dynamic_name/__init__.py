"""A module whose event names cannot be known without running it."""
