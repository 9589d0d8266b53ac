"""Quick commands start quickly: naming a command imports only its group."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from boflyt.cli import COMMAND_GROUPS, app

PROBE = (
    "import sys; sys.argv = ['/venv/bin/boflyt', {command!r}]; import boflyt.cli; "
    "heavy = ('prefect', 'matplotlib', 'boflyt.visualize.report'); "
    "print(sorted(m for m in heavy if m in sys.modules))"
)


@pytest.mark.parametrize("command", ["validate", "case", "inbox", "analyse", "runs"])
def test_quick_commands_do_not_import_prefect_or_the_report(command: str) -> None:
    probe = PROBE.format(command=command)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_command_is_registered_when_none_is_named() -> None:
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    groups = {g.name for g in app.registered_groups}
    assert commands | groups == {name for names in COMMAND_GROUPS.values() for name in names}


@pytest.mark.parametrize("command", ["demo", "simulate", "validate"])
def test_a_group_with_one_command_still_runs_as_that_command(command: str) -> None:
    script = Path(sys.executable).with_name("boflyt")
    out = subprocess.run([str(script), command, "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "Usage: boflyt " + command in " ".join(out.stdout.split())
