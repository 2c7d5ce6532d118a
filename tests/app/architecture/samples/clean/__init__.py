"""A tree that keeps every rule: alpha publishes, beta depends on alpha and consumes."""
