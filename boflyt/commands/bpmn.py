"""``boflyt bpmn``: a process version as BPMN 2.0 XML for modelling tools (Camunda, bpmn.io).

A thin shell over :mod:`boflyt.formats.bpmn`: load the version from the workspace's library,
write the file through a temporary file beside it (nothing is left behind when writing fails),
and say what was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from boflyt.commands.language import LangOption, chosen
from boflyt.console import console, fail, friendly_errors
from boflyt.engine.definition.load import load_library, parse_ref
from boflyt.formats.bpmn import write_bpmn
from boflyt.models.words import word
from boflyt.workspace import Workspace

__all__ = ["register"]


def bpmn(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="PROCESS@VERSION",
            help="The version to write, e.g. refugee_settlement@v2 "
            "(PROCESS alone: its newest published version).",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The .bpmn file to write (replaced when it exists)."),
    ],
    lang: LangOption = None,
) -> None:
    """Write a version as BPMN 2.0 XML with one lane per organisation, drawn."""
    language = chosen(lang)
    with friendly_errors():
        process, number = parse_ref(ref)
        library = load_library(Workspace.current().processes_dir)
        version = library.get(process, number)
    if not output.parent.is_dir():
        fail(f"{output}: the folder {output.parent} does not exist")
    try:
        write_bpmn(version, output, library.lanes, lang=language)
    except OSError as error:
        fail(f"{output}: cannot write the file ({error.strerror or error}); nothing was written")
    wrote = word(
        "bpmn.wrote",
        language,
        path=output,
        steps=len(version.steps),
        lanes=len(version.lanes),
        flows=len(version.transitions),
    )
    console.print(Text(wrote), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``bpmn``."""
    app.command("bpmn")(bpmn)
