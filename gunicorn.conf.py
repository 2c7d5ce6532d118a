"""gunicorn's settings for this app; gunicorn reads ``./gunicorn.conf.py`` by itself.

Logging, and each worker's record as a web process when it starts serving
(``post_worker_init``: ``app.processes.record_web_start``, so ``flask events stats`` right
after a deploy lists it, never waiting on or failing for Redis). gunicorn's arbiter logs
before any app is built and (re)builds its own handlers at start and on SIGHUP, so its logger
class renders them through the app's logging right after (``app.log``: JSON lines, or console
output on a terminal, from ``FLASK_LOG_FORMAT`` and ``FLASK_LOG_LEVEL``): every line of the
process has one format. Everything else stays on the command line (``docker-compose.yml``).
"""

from typing import Any

from gunicorn.glogging import Logger

from app.log import configure_from_environment
from app.processes import record_web_start


class AppFormattedLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, its handlers given the app's formatter after each setup."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        try:
            configure_from_environment()
        except ValueError as exc:  # FLASK_LOG_LEVEL or FLASK_LOG_FORMAT: one line, no traceback
            raise SystemExit(f"Error: {exc}") from None


logger_class = AppFormattedLogger


def post_worker_init(worker: Any) -> None:
    """A worker loaded the app (after the fork, so with its own pid): record it as a web
    process now rather than at its first request."""
    record_web_start(worker.wsgi)
