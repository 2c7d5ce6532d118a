"""Where the sample trees are, and line numbers in them (so tests state exact messages)."""

from __future__ import annotations

from app.architecture import PROJECT_ROOT

SAMPLES = "tests.app.architecture.samples"
SAMPLES_DIR = "tests/app/architecture/samples"
TYPES = "app/core/events/types.py"
ADD_HINT = "(add it to app/core/events/types.py first)"


def line_of(path: str, marker: str) -> int:
    """The 1-based number of the first line of ``path`` (from the root) containing ``marker``."""
    lines = (PROJECT_ROOT / path).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if marker in line)


def at(path: str, marker: str) -> str:
    """``path:line`` of the first line of ``path`` containing ``marker``."""
    return f"{path}:{line_of(path, marker)}"
