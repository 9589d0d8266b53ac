"""``boflyt glossary``: which word means what, in bokmål and English, from the word catalogue.

Prints the glossary as Markdown (the docs' glossary page is this output, between its
``<!-- glossary: start -->`` and ``<!-- glossary: end -->`` markers; ``--write
docs/reference/glossary.md`` rewrites that block, and a test checks the two agree). ``--readme``
is the option's older name, still accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from boflyt.console import fail
from boflyt.models.words import glossary_markdown

__all__ = ["register", "replace_block"]

START, END = "<!-- glossary: start -->\n", "<!-- glossary: end -->"


def replace_block(text: str, glossary: str) -> str:
    """``text`` with the block between the glossary markers replaced by ``glossary``.

    Raises:
        ValueError: ``text`` lacks either marker.
    """
    if START not in text or END not in text.split(START, 1)[1]:
        raise ValueError(f"no '{START.strip()}' … '{END}' block")
    head, rest = text.split(START, 1)
    return head + START + glossary + rest[rest.index(END) :]


def glossary(
    target: Annotated[
        Path | None,
        typer.Option(
            "--write",
            "--readme",
            help="Rewrite the glossary block of this Markdown file instead of printing it.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print the glossary (identifier, bokmål, English) generated from the word catalogue."""
    text = glossary_markdown()
    if target is None:
        typer.echo(text, nl=False)
        return
    try:
        target.write_text(replace_block(target.read_text(encoding="utf-8"), text), "utf-8")
    except (OSError, ValueError) as exc:
        fail(f"{target}: {exc}")


def register(app: typer.Typer) -> None:
    """Add ``glossary``."""
    app.command("glossary")(glossary)
