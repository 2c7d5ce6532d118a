"""Findings: what a check reports, where, and how it is printed (``path:line: severity: ...``).

Paths are relative to the project root (the directory that holds the ``app`` package) so the
output is the same on every machine and clickable in editors and CI logs. A file outside the
root keeps its absolute path.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "Finding",
    "Location",
    "Severity",
    "exit_code",
    "relative",
    "sorted_findings",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
"""The checkout: the directory that holds ``app/``, ``modules/`` and ``docs/``."""


def relative(path: Path | str, root: Path = PROJECT_ROOT) -> str:
    """``path`` relative to ``root`` with ``/`` separators, or absolute when outside it."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return resolved.as_posix()


@dataclass(frozen=True, order=True)
class Location:
    """A line in a source file; ``path`` is already relative (see :func:`relative`)."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class Severity(enum.StrEnum):
    """Errors fail ``events check`` (exit 1); warnings are printed and exit 0."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place. ``str(finding)`` is the line ``events check`` prints."""

    location: Location
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message}"

    @classmethod
    def error(cls, location: Location, message: str) -> Finding:
        """An error at ``location``."""
        return cls(location, Severity.ERROR, message)

    @classmethod
    def warning(cls, location: Location, message: str) -> Finding:
        """A warning at ``location``."""
        return cls(location, Severity.WARNING, message)


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Deduplicated, ordered by path, then line, then severity and message."""
    return sorted(set(findings))


def exit_code(findings: Iterable[Finding]) -> int:
    """1 when any finding is an error, else 0."""
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0
