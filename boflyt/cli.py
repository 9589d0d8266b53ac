"""The ``boflyt`` command line: a thin typer shell over the core.

Each group of commands lives in :mod:`boflyt.commands` and registers itself here. Quick
commands must start quickly, so when the command line names a command, only its group is
imported: ``boflyt validate`` never pays for importing Prefect, matplotlib or the report. With
no command (``boflyt --help``), or when the app is used as a library (tests), every group is
registered. Prefect's local-mode defaults are set before any group imports Prefect.

Every error is one line on stderr and a non-zero exit, wherever a command raises it
(:class:`~boflyt.console.OneLineErrors`); ``--debug`` or ``BOFLYT_DEBUG=1`` shows the traceback
of an unexpected one instead. (``BOFLYT_DEBUG`` is read by the option itself, not by the
settings, so it works even when a setting is bad.)
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import version
from types import ModuleType
from typing import Annotated

import typer

from boflyt.console import OneLineErrors
from boflyt.prefect_local import use_local_defaults

__all__ = ["COMMAND_GROUPS", "app"]

COMMAND_GROUPS: dict[str, tuple[str, ...]] = {
    "definitions": ("validate", "show", "diff", "schema", "versions"),
    "cases": ("case", "inbox"),
    "analysis": ("analyse", "compare"),
    "simulation": ("simulate",),
    "diagrams": ("draw", "report"),
    "demo": ("demo",),
    "workspace": ("init",),
    "store": ("db",),
    "glossary": ("glossary",),
    "runs": ("runs",),
}
"""Each module of :mod:`boflyt.commands` and the top-level commands it registers."""


def _groups(argv: list[str]) -> list[ModuleType]:
    named = argv[1] if len(argv) > 1 and sys.argv[0].endswith("boflyt") else None
    wanted = [group for group, commands in COMMAND_GROUPS.items() if named in commands]
    return [importlib.import_module(f"boflyt.commands.{g}") for g in wanted or COMMAND_GROUPS]


use_local_defaults()

app = typer.Typer(
    name="boflyt",
    help="Boflyt: executable, measurable LEAN case routines for housing-social work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=OneLineErrors,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"boflyt {version('boflyt')}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="BOFLYT_DEBUG",
            help="Show the full traceback of an unexpected error (default: write it to a file).",
        ),
    ] = False,
) -> None:
    """Boflyt: executable, measurable LEAN case routines for housing-social work."""
    # A callback keeps typer in group mode even when only one command is registered.


for _module in _groups(sys.argv):
    _module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
