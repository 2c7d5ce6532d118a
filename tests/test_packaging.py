"""Installing flask-eventbus harms no other project in the same environment.

The project is an application: its distribution carries its dependencies and its metadata
only, never the top-level packages ``app``, ``modules`` and ``transports`` (which would shadow
another project's), and no pytest entry point (the bus's plugin is opted into by a conftest).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
from importlib.metadata import Distribution, distributions
from pathlib import Path

import pytest

import app

ROOT = Path(__file__).resolve().parents[1]
OUR_PACKAGES = ("app", "modules", "transports")


def installed() -> Distribution:
    """The flask-eventbus distribution installed in this environment's site-packages."""
    site = sysconfig.get_paths()["purelib"]
    return next(iter(distributions(name="flask-eventbus", path=[site])))


def test_the_distribution_installs_metadata_only() -> None:
    dist = installed()
    top_levels = {Path(str(f)).parts[0] for f in dist.files or ()}
    assert not top_levels & set(OUR_PACKAGES), sorted(top_levels)
    assert not [f for f in dist.files or () if str(f).endswith(".pth")]
    assert not [ep for ep in dist.entry_points if ep.group == "pytest11"]


def test_license_version_and_typing_markers() -> None:
    dist = installed()
    assert dist.metadata["License-Expression"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert app.__version__ == dist.version
    assert (ROOT / "app" / "py.typed").exists() and (ROOT / "transports" / "py.typed").exists()


def test_importing_the_pytest_plugin_changes_no_environment() -> None:
    code = (
        "import os; before = dict(os.environ); import app.core.events.pytest_plugin; "
        "assert dict(os.environ) == before"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_EVENTBUS")}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


@pytest.mark.slow
def test_another_project_with_its_own_app_package_is_untouched(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text('NAME = "theirs"\n')
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_theirs.py").write_text(
        textwrap.dedent(
            """
            import importlib.util
            import os

            import app

            def test_its_own_app_package():
                assert app.NAME == "theirs"

            def test_no_other_top_level_package_of_ours():
                assert importlib.util.find_spec("modules") is None
                assert importlib.util.find_spec("transports") is None

            def test_no_environment_change_and_no_foreign_fixture(request):
                assert not [k for k in os.environ if k.startswith("FLASK_EVENTBUS")]
                assert "published_events" not in request.fixturenames
                assert not request.config.pluginmanager.has_plugin(
                    "app.core.events.pytest_plugin"
                )
            """
        )
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "PYTEST_", "PYTHON")) and k != "DATABASE_URL"
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
