"""The store's schema revisions (Alembic), run from code on a connection Boflyt opened.

The revision scripts live in ``versions/`` inside the installed package; no ``alembic.ini`` is
read. Every function here works on a connection the caller has already put in the transaction
(and under the lock) that must cover it, so a migration commits or rolls back as one piece:
:func:`boflyt.engine.store.db.migrate` does that.

Importing this module imports Alembic (~150 ms with Mako), so the store's fast path in
:mod:`boflyt.engine.store.db` reads the revision with plain SQL and imports this only to migrate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from boflyt.engine.store.db import VERSION_TABLE
from boflyt.models.tables import metadata

__all__ = [
    "VERSION_TABLE",
    "drift",
    "options",
    "revisions",
    "stamp",
    "upgrade",
]


_FOLDER = Path(__file__).parent


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_FOLDER))
    config.attributes["connection"] = connection
    return config


def options(connection: Connection) -> dict[str, Any]:
    """Alembic's context options for ``connection`` (used by ``env.py`` and :func:`drift`)."""
    return {
        "version_table": VERSION_TABLE,
        "target_metadata": metadata,
        "compare_type": True,
        "render_as_batch": connection.dialect.name == "sqlite",
    }


def revisions() -> tuple[str, ...]:
    """Every revision id, oldest first (the last is the head)."""
    script = ScriptDirectory.from_config(_config())
    return tuple(reversed([rev.revision for rev in script.walk_revisions()]))


def upgrade(connection: Connection, target: str = "head") -> None:
    """Run the revisions from the store's current one up to ``target`` on ``connection``."""
    command.upgrade(_config(connection), target)


def stamp(connection: Connection, revision: str) -> None:
    """Record ``revision`` as the store's revision without running anything."""
    command.stamp(_config(connection), revision)


def drift(connection: Connection) -> list[Any]:
    """What Alembic's autogenerate finds between the store and ``models/tables.py`` (none: [])."""
    context = MigrationContext.configure(connection, opts=options(connection))
    return list(compare_metadata(context, metadata))
