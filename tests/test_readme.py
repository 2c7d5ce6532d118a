"""The README stays true: its configuration table is the one the code defines."""

from __future__ import annotations

from pathlib import Path

from app.config import settings_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_configuration_table_matches_the_code() -> None:
    text = README.read_text()
    assert settings_table() in text, (
        "README's configuration table is stale: paste the output of "
        "`python -c 'from app.config import settings_table; print(settings_table())'`"
    )


def test_the_two_commands_are_documented() -> None:
    text = README.read_text()
    assert "make run" in text and "make test" in text
