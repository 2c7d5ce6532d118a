"""The README stays true: its tables are the code's, and its shell blocks do what it says.

The walk-through runs as written against a served clinic (``tests.support.walkthrough``): each
``# →`` line must be in the output of the command above it, and docs/clinic.md's session must
be what this run printed (ids and times aside). The worker commands each start as written,
serve, and stop with status 0 on SIGTERM; the ``rq worker`` line is what
``flask events rq-command`` prints for the defaults.
"""

from __future__ import annotations

import ast
import builtins
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.config import settings_table
from tests.support.redis_server import RedisServer
from tests.support.rq_workers import delete_rq_keys
from tests.support.walkthrough import (
    CLINIC_DOC,
    README,
    ROOT,
    Step,
    console_examples,
    normalized,
    render_session,
    session_of,
    shell_block,
    steps,
    upgraded_database,
    walkthrough_session,
)

WORKERS = "Running workers"


def test_configuration_table_matches_the_code() -> None:
    text = README.read_text()
    assert settings_table() in text, (
        "README's configuration table is stale: paste the output of "
        "`python -c 'from app.config import settings_table; print(settings_table())'`"
    )


def test_the_two_commands_are_documented() -> None:
    text = README.read_text()
    assert "make run" in text and "make test" in text


def test_the_opening_snippet_imports_what_it_uses_and_runs() -> None:
    text = README.read_text()
    start = text.index("```python\n") + len("```python\n")
    snippet = text[start : text.index("\n```", start)]
    tree = ast.parse(snippet)
    nodes = list(ast.walk(tree))
    imports = [node for node in nodes if isinstance(node, ast.ImportFrom)]
    bound = {alias.asname or alias.name for node in imports for alias in node.names}
    bound |= {n.name for n in nodes if isinstance(n, ast.ClassDef | ast.FunctionDef)}
    bound |= {a.arg for n in nodes if isinstance(n, ast.arguments) for a in n.args}
    used = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    assert used - bound - set(dir(builtins)) == set(), "every name is imported or defined"
    program = snippet + (
        "\nhandlers = NotificationsModule().get_event_handlers()"
        "\nhandlers['patient.created']({'patient_id': 'p1', 'clinic_id': 'c'})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("FLASK_")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "welcome p1\n"


BAD_INPUT = console_examples(CLINIC_DOC.read_text(), "Bad input")


@pytest.fixture(scope="module")
def session() -> tuple[list[Step], list[str], list[str]]:
    """One run of the README's walk-through, then docs/clinic.md's bad-input examples,
    against a freshly served clinic."""
    return walkthrough_session([step for step, _ in BAD_INPUT])


@pytest.fixture(scope="module")
def walkthrough(
    session: tuple[list[Step], list[str], list[str]],
) -> tuple[list[Step], list[str]]:
    return session[0], session[1]


def test_docs_clinic_bad_input_examples_print_what_they_show(
    session: tuple[list[Step], list[str], list[str]],
) -> None:
    assert len(BAD_INPUT) >= 2
    for (step, shown), output in zip(BAD_INPUT, session[2], strict=True):
        assert normalized(output) == normalized(shown), step.command


def test_the_walkthrough_prints_what_the_readme_says(
    walkthrough: tuple[list[Step], list[str]],
) -> None:
    found, outputs = walkthrough
    documented = [step for step in found if step.expected]
    assert len(documented) >= 6, "the walk-through documents its responses"
    for step, output in zip(found, outputs, strict=True):
        for expected in step.expected:
            assert expected in output, f"{step.command}\n  printed: {output[:500]}"


def test_docs_clinic_is_the_session_the_walkthrough_prints(
    walkthrough: tuple[list[Step], list[str]],
) -> None:
    found, outputs = walkthrough
    fresh = normalized(render_session(found, outputs))
    documented = normalized(session_of(CLINIC_DOC.read_text()))
    assert documented == fresh, "docs/clinic.md is stale: run `make clinic-doc`"


def test_the_rq_worker_line_is_what_rq_command_prints_for_the_defaults() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "PYTEST_")) and k != "DATABASE_URL"
    }
    env["DATABASE_URL"] = "sqlite://"
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "events", "rq-command"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == shell_block(WORKERS, 1).strip()


def _command_pids(bash_pid: int) -> list[int]:
    """The command bash runs: bash itself once it exec'd it, else bash's children."""
    if Path(f"/proc/{bash_pid}/comm").read_text().strip() != "bash":
        return [bash_pid]
    children = Path(f"/proc/{bash_pid}/task/{bash_pid}/children").read_text().split()
    return [int(child) for child in children]


def _start_serve_and_stop(script: str, env: dict[str, str]) -> str:
    """Run ``script`` in bash; once it has logged and served a moment, SIGTERM the command.

    bash either runs the last command itself (exec) or as its one child: that process, and
    only it, gets the signal. Returns the output; fails unless the exit status is 0.
    """
    with subprocess.Popen(
        ["bash", "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 60
            while not lines and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(2.0)  # past its start: serving, its signal handlers in place
            assert process.poll() is None, f"exited at once:\n{''.join(lines)}"
            for pid in _command_pids(process.pid):
                os.kill(pid, signal.SIGTERM)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        reader.join(10)
    output = "".join(lines)
    assert process.returncode == 0, f"{script}\nstatus {process.returncode}:\n{output}"
    return output


@pytest.mark.slow
@pytest.mark.redis
def test_every_worker_line_starts_serves_and_stops_cleanly(
    real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    found = steps(shell_block(WORKERS))
    activate, commands = found[0], found[1:]
    assert activate.command == ". .venv/bin/activate"
    assert len(commands) == 4
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "PYTEST_")) and k != "DATABASE_URL"
    }
    env.update(
        FLASK_EVENTBUS_REDIS_URL=real_redis.url,  # the test's server and prefix, never the user's
        FLASK_EVENTBUS_KEY_PREFIX=key_prefix,
        FLASK_LOG_FORMAT="json",
        DATABASE_URL=upgraded_database(tmp_path / "workers.db"),
    )
    try:
        for step in commands:
            output = _start_serve_and_stop(f"{activate.command}\n{step.command}", env)
            assert "Traceback" not in output, output
    finally:
        import redis

        client = redis.Redis.from_url(real_redis.url)
        delete_rq_keys(client, key_prefix)


@pytest.mark.slow
@pytest.mark.redis
def test_the_printed_rq_worker_line_runs_from_the_checkout(
    real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    """What rq-command prints runs as is from the repository root, with nothing on
    ``PYTHONPATH``: RQ's CLI finds the bus's classes in the checkout (they are not installed)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "PYTEST_", "PYTHON")) and k != "DATABASE_URL"
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        FLASK_EVENTBUS_REDIS_URL=real_redis.url,
        FLASK_EVENTBUS_KEY_PREFIX=key_prefix,
        FLASK_EVENTBUS_TRANSPORT="rq",
        FLASK_LOG_FORMAT="json",
        DATABASE_URL=upgraded_database(tmp_path / "rq.db"),
    )
    printed = subprocess.run(
        ["flask", "--app", "wsgi", "events", "rq-command"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    try:
        result = subprocess.run(
            ["bash", "-c", f"{printed.strip()} --burst --name {key_prefix}-readme"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        import redis

        client = redis.Redis.from_url(real_redis.url)
        delete_rq_keys(client, key_prefix)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Listening on {key_prefix}:eventbus" in result.stdout + result.stderr
