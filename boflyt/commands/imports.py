"""``boflyt import`` (being built: issue 14)."""

from __future__ import annotations

import typer

from boflyt.console import fail

__all__ = ["register"]


def import_log() -> None:
    """Import an event log (XES, CSV or Parquet) into the run set imported:NAME."""
    fail("boflyt import is not built yet")


def register(app: typer.Typer) -> None:
    """Add ``import``."""
    app.command("import")(import_log)
