"""Alembic's environment: run the revisions on the connection Boflyt hands in.

There is no ``alembic.ini`` and no URL here: :mod:`boflyt.engine.store.migrations` builds the
config in
code and passes an open connection, already inside the transaction (and lock) that must cover
the migration, as ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from boflyt.engine.store.migrations import options

connection = context.config.attributes["connection"]
assert isinstance(connection, Connection)
context.configure(connection=connection, **options(connection))
with context.begin_transaction():
    context.run_migrations()
