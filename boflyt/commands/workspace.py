"""``boflyt init``: make a workspace (library copy, store and report folders)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from boflyt.console import console, friendly_errors
from boflyt.workspace import create_workspace

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``init``."""
    app.command(
        "init",
        help="Make a workspace in DIR (default: here): a copy of the process library to edit "
        "(processes/), the store (data/, owner-only) and reports (reports/). Commands run in "
        "the workspace or below it use it.",
    )(init)


def init(
    folder: Annotated[
        Path, typer.Argument(help="The workspace folder (created if missing).")
    ] = Path("."),
) -> None:
    with friendly_errors():
        root = create_workspace(folder)
    console.print(f"Arbeidsområde / workspace: [bold]{root}[/]")
    console.print("  processes/  prosessbiblioteket / the process library")
    console.print("  data/       lageret og nøkkelen / the store and its key (owner-only)")
    console.print("  reports/    rapporter / reports")
    console.print(f"Neste / next: cd {folder} && boflyt demo")
