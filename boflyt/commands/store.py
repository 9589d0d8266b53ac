"""``boflyt db …``: the store's schema revision — see where it stands, upgrade it on purpose.

Every command opens the store itself and creates an empty one; an older SQLite store upgrades
itself on open. A shared PostgreSQL store is upgraded only here, by someone who has backed it
up: ``boflyt db upgrade`` (other processes wait on the migration lock meanwhile).
"""

from __future__ import annotations

import typer
from sqlalchemy.engine import Engine

from boflyt.console import console, friendly_errors
from boflyt.engine.store.db import HEAD, make_engine, shown_url, store_revision, upgrade_schema
from boflyt.workspace import Workspace

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``db`` (status, upgrade)."""
    db = typer.Typer(help="The store's schema revision: status, upgrade.", no_args_is_help=True)
    app.add_typer(db, name="db")
    db.command("status", help="Print the store's revision and the one this Boflyt needs.")(status)
    db.command("upgrade", help="Upgrade the configured store to this Boflyt's revision.")(upgrade)


def _engine() -> Engine:
    workspace = Workspace.current()
    if workspace.database_url.startswith("sqlite"):
        workspace.ensure_data_dir()
    return make_engine(workspace.database_url)


def status() -> None:
    with friendly_errors():
        engine = _engine()
        found = store_revision(engine)
    state = "up to date" if found.revision == HEAD else "upgrade with 'boflyt db upgrade'"
    console.print(f"store:    {shown_url(engine)}", soft_wrap=True)
    console.print(f"current:  {found.label}")
    console.print(f"head:     {HEAD} ({state})")


def upgrade() -> None:
    with friendly_errors():
        engine = _engine()
        before, after = upgrade_schema(engine)
    console.print(f"store:    {shown_url(engine)}", soft_wrap=True)
    if before == after:
        console.print(f"already at {after}; nothing to do")
    else:
        console.print(f"upgraded: {before} -> {after}")
