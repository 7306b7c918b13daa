"""The README is the front door: its set-up commands are the ones CI and newcomers run, and
it stays short enough to read at once (reference material lives in docs/)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^python3 -m venv .*$", text, flags=re.MULTILINE)


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_commands = [c for c in _readme_commands() if c.endswith("python -m pytest -q")]
    assert len(test_commands) == 1, _readme_commands()
    assert test_commands[0] in ci.splitlines()


def test_readme_has_exactly_two_setup_commands_with_the_quickstart_as_main_job() -> None:
    commands = _readme_commands()
    assert len(commands) == 2, commands
    assert sum(c.endswith("python samples/quickstart.py") for c in commands) == 1


def test_readme_is_a_front_door_under_300_lines() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 300, f"the README has {len(lines)} lines: reference belongs in docs/"
