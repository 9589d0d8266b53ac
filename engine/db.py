"""The one engine factory, the schema and the transaction scope.

SQLite (the default, one file in the data directory) is configured for safe concurrent writers:
WAL journal, ``busy_timeout=5000``, foreign keys on, ``secure_delete`` on, and — because the
pysqlite driver would otherwise defer ``BEGIN`` until the first write — the driver's own
transaction handling is switched off and every transaction starts with ``BEGIN IMMEDIATE``,
which takes the write lock at once (so ``busy_timeout`` applies and a read-then-write never
fails half-way with "database is locked"). ``synchronous=NORMAL`` is used with WAL: a commit
is atomic and consistent after a crash; after a power loss the last commits may be rolled back.
Each connection keeps a 32 MB page cache, and the WAL is checkpointed every 10,000 pages
(~40 MB) rather than every 1,000: fewer, larger checkpoints make single-writer commits faster.

Read-only work can ask for a deferred ``BEGIN`` with :func:`read_scope` so readers never queue
behind writers. PostgreSQL is used through psycopg 3 (``postgresql+psycopg://…``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from boflyt.models.errors import StoreError
from boflyt.models.tables import metadata

__all__ = [
    "READ_ONLY",
    "create_schema",
    "is_sqlite",
    "make_engine",
    "read_scope",
    "session_scope",
    "write_scope",
]

READ_ONLY = "boflyt_read_only"
"""Execution option: begin this transaction deferred (SQLite) — it will not write."""

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-32000",
    "PRAGMA wal_autocheckpoint=10000",
)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``: SQLite configured as above, anything else as given.

    A plain ``postgresql://`` URL is upgraded to the psycopg 3 driver.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, **kwargs)
    engine = sa.create_engine(url, **kwargs)
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    deferred = connection.get_execution_options().get(READ_ONLY, False)
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("BEGIN" if deferred else "BEGIN IMMEDIATE")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_schema(engine: Engine) -> None:
    """Create every table that does not exist yet (idempotent)."""
    try:
        metadata.create_all(engine)
    except sa.exc.OperationalError as exc:
        raise StoreError(f"cannot create the schema at {engine.url!r}: {exc.orig}") from exc


@contextmanager
def write_scope(engine: Engine) -> Iterator[Connection]:
    """One write transaction (``BEGIN IMMEDIATE`` on SQLite): commit, or roll back on error."""
    with engine.begin() as connection:
        yield connection


@contextmanager
def read_scope(engine: Engine) -> Iterator[Connection]:
    """One read transaction; on SQLite a deferred ``BEGIN`` that never takes the write lock."""
    with engine.connect() as connection:
        connection = connection.execution_options(**{READ_ONLY: True})
        with connection.begin():
            yield connection


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """An ORM session in one transaction: commit on success, roll back on any error."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
