"""Architecture tooling (ADR 0003): the events catalog and the checks that keep
"modules talk through events" true as the code grows.

Everything here reads the source (``ast``, and ``grimp`` for the import graph) and inventories
the modules without mounting them: no broker, no subscription, nothing written but the catalog
file the CLI asks for. The commands are ``flask --app wsgi events catalog [--check]``,
``events check`` and ``events list``; ``python -m app.architecture check`` runs the checks
without building the app (for when the app itself fails to start).
"""

from .analysis import Analysis, analyse, analyse_app, default_router
from .catalog import CATALOG_COMMAND, CATALOG_PATH, render_catalog, staleness
from .checks import check_report, run_checks, summary
from .findings import PROJECT_ROOT, Finding, Location, Severity, exit_code

__all__ = [
    "CATALOG_COMMAND",
    "CATALOG_PATH",
    "PROJECT_ROOT",
    "Analysis",
    "Finding",
    "Location",
    "Severity",
    "analyse",
    "analyse_app",
    "check_report",
    "default_router",
    "exit_code",
    "render_catalog",
    "run_checks",
    "staleness",
    "summary",
]
