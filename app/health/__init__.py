"""Health endpoints: ``/health/live``, ``/health/ready`` (and ``/health``, the same as ready)."""

from .checks import Check, readiness
from .views import health_blueprint

__all__ = ["Check", "health_blueprint", "readiness"]
