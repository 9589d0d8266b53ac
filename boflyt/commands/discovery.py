"""``boflyt discover`` (being built: issue 14)."""

from __future__ import annotations

import typer

from boflyt.console import fail

__all__ = ["register"]


def discover() -> None:
    """Draft a version from an imported log: steps, lanes, decisions, rework and durations."""
    fail("boflyt discover is not built yet")


def register(app: typer.Typer) -> None:
    """Add ``discover``."""
    app.command("discover")(discover)
