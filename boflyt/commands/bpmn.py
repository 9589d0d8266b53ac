"""``boflyt bpmn`` (being built: issue 14)."""

from __future__ import annotations

import typer

from boflyt.console import fail

__all__ = ["register"]


def bpmn() -> None:
    """Write a version as BPMN 2.0 XML with one lane per organisation, drawn."""
    fail("boflyt bpmn is not built yet")


def register(app: typer.Typer) -> None:
    """Add ``bpmn``."""
    app.command("bpmn")(bpmn)
