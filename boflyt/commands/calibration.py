"""``boflyt calibrate`` (being built: issue 14)."""

from __future__ import annotations

import typer

from boflyt.console import fail

__all__ = ["register"]


def calibrate() -> None:
    """Fit a simulation scenario (arrivals, staff, durations, branches) from an imported log."""
    fail("boflyt calibrate is not built yet")


def register(app: typer.Typer) -> None:
    """Add ``calibrate``."""
    app.command("calibrate")(calibrate)
