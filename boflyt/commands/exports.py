"""``boflyt export`` (being built: issue 14)."""

from __future__ import annotations

import typer

from boflyt.console import fail

__all__ = ["register"]


def export() -> None:
    """Export a run set as XES, OCEL 2.0, CSV or Parquet (pseudonyms only)."""
    fail("boflyt export is not built yet")


def register(app: typer.Typer) -> None:
    """Add ``export``."""
    app.command("export")(export)
