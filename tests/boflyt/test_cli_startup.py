"""Quick commands start quickly: ``--help`` imports no command, naming one imports only its
group, and the summaries ``--help`` lists agree with the commands' own help."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.main import get_group
from typer.testing import CliRunner

from boflyt.cli import COMMANDS, app, load_command

runner = CliRunner()

HEAVY = ("prefect", "matplotlib", "polars", "sqlalchemy", "pydantic", "boflyt.visualize.report")
PROBE = """
import sys
from boflyt.cli import app, load_command
{action}
heavy = {heavy!r}
print(sorted(m for m in sys.modules if m.startswith(heavy)))
"""
RUN_APP = "try:\n    app({args!r})\nexcept SystemExit:\n    pass"


def _imported(action: str, heavy: tuple[str, ...]) -> str:
    probe = PROBE.format(action=action, heavy=heavy)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("args", [["--help"], ["--version"], []])
def test_help_and_version_import_no_command_and_no_heavy_library(args: list[str]) -> None:
    heavy = (*HEAVY, "boflyt.commands")
    assert _imported(RUN_APP.format(args=args), heavy) == "[]"


def test_python_dash_m_help_imports_no_heavy_library() -> None:
    probe = "import runpy, sys; sys.argv = ['boflyt', '--help']\ntry:\n    runpy.run_module('boflyt', run_name='__main__')\nexcept SystemExit:\n    pass"  # noqa: E501
    assert _imported(probe, (*HEAVY, "boflyt.commands")) == "[]"


@pytest.mark.slow
@pytest.mark.parametrize("command", ["validate", "case", "inbox", "analyse", "runs"])
def test_quick_commands_do_not_import_prefect_or_the_report(command: str) -> None:
    action = f"load_command({command!r})"
    assert _imported(action, ("prefect", "matplotlib", "boflyt.visualize.report")) == "[]"


@pytest.mark.parametrize("command", ["validate", "show", "diff", "versions", "schema"])
def test_the_process_owners_commands_import_no_store(command: str) -> None:
    action = f"load_command({command!r})"
    assert _imported(action, ("sqlalchemy", "polars", "prefect", "matplotlib")) == "[]"


def _first_paragraph(help_text: str | None) -> str:
    return " ".join(inspect.cleandoc(help_text or "").split("\n\n")[0].split())


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_summary_is_the_first_paragraph_of_its_commands_help(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert COMMANDS[name].summary == _first_paragraph(command.short_help or command.help)


@pytest.mark.parametrize("module", sorted({entry.module for entry in COMMANDS.values()}))
def test_the_map_names_every_command_a_module_registers(module: str) -> None:
    group = typer.Typer()
    __import__(f"boflyt.commands.{module}", fromlist=["register"]).register(group)
    listed = {name for name, entry in COMMANDS.items() if entry.module == module}
    assert set(get_group(group).commands) == listed


def test_the_root_help_lists_every_command_with_its_summary() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    for name, entry in COMMANDS.items():
        assert f"{name}  " in result.output and entry.summary in " ".join(result.output.split())


SUBCOMMANDS = {"case": ["start", "begin", "complete", "show", "list", "cancel", "migrate"],
               "runs": ["list", "delete"], "db": ["status", "upgrade"],
               "user": ["add", "list", "disable", "token"],
               "outbox": ["send", "list", "requeue"], "deadlines": ["run"]}  # fmt: skip
EVERY_COMMAND = [[name] for name in COMMANDS] + [
    [group, sub] for group, subs in SUBCOMMANDS.items() for sub in subs
]


@pytest.mark.parametrize("words", EVERY_COMMAND, ids=" ".join)
def test_every_command_has_its_own_help(words: list[str]) -> None:
    result = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "Usage: boflyt " + " ".join(words) in " ".join(result.output.split())
    assert "Show this message and exit." in result.output


@pytest.mark.parametrize("group", list(SUBCOMMANDS))
def test_the_subcommand_list_is_complete(group: str) -> None:
    assert list(getattr(load_command(group), "commands", {})) == SUBCOMMANDS[group]


def test_a_mistyped_command_gets_a_suggestion() -> None:
    result = runner.invoke(app, ["validat"])
    assert result.exit_code == 2 and "Did you mean 'validate'" in result.output


@pytest.mark.slow
@pytest.mark.parametrize("command", ["demo", "simulate", "validate"])
def test_a_group_with_one_command_still_runs_as_that_command(command: str) -> None:
    script = Path(sys.executable).with_name("boflyt")
    out = subprocess.run([str(script), command, "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "Usage: boflyt " + command in " ".join(out.stdout.split())


@pytest.mark.parametrize("words", EVERY_COMMAND, ids=" ".join)
def test_every_option_and_argument_says_what_it_is(words: list[str]) -> None:
    command = load_command(words[0])
    for sub in words[1:]:
        command = getattr(command, "commands", {})[sub]
    if getattr(command, "commands", None):
        return  # a group: its subcommands are checked one by one
    assert [p.name for p in command.params if not getattr(p, "help", None)] == []
