"""``boflyt conformance`` (being built: issue 14)."""

from __future__ import annotations

import typer

from boflyt.console import fail

__all__ = ["register"]


def conformance_command() -> None:
    """Check a run set against a version: fitness, first deviations, deviations by step."""
    fail("boflyt conformance is not built yet")


def register(app: typer.Typer) -> None:
    """Add ``conformance``."""
    app.command("conformance")(conformance_command)
