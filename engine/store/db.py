"""The one engine factory, the schema's revision check and the transaction scope.

SQLite (the default, one file in the data directory) is configured for safe concurrent writers:
WAL journal, a 60 s ``busy_timeout``, foreign keys on, ``secure_delete`` on, and — because the
pysqlite driver would otherwise defer ``BEGIN`` until the first write — the driver's own
transaction handling is switched off and every transaction starts with ``BEGIN IMMEDIATE``,
which takes the write lock at once (so ``busy_timeout`` applies and a read-then-write never
fails half-way with "database is locked"). ``synchronous=NORMAL`` is used with WAL: a commit
is atomic and consistent after a crash; after a power loss the last commits may be rolled back.
Each connection keeps a 32 MB page cache, and the WAL is checkpointed every 10,000 pages
(~40 MB) rather than every 1,000: fewer, larger checkpoints make single-writer commits faster.
The store file is created owner-only (0600); SQLite gives its ``-wal`` and ``-shm`` the same mode.

Read-only work can ask for a deferred ``BEGIN`` with :func:`read_scope` so readers never queue
behind writers. PostgreSQL is used through psycopg 3 (``postgresql+psycopg://…``) with a 5 s
connect timeout.

Opening a store (:func:`open_schema`) reads its revision in a read-only transaction; only a store
that is empty, or older than this code and allowed to upgrade, is migrated (:func:`migrate`),
under the write lock on SQLite and ``pg_advisory_xact_lock`` on PostgreSQL, re-checking the
revision inside the lock so that of many processes starting at once exactly one migrates.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boflyt.models.errors import StoreError

__all__ = [
    "HEAD",
    "PG_PING_IDLE_S",
    "READ_ONLY",
    "REVISIONS",
    "VERSION_TABLE",
    "SqliteTransaction",
    "StoreRevision",
    "create_schema",
    "make_engine",
    "migrate",
    "open_schema",
    "read_scope",
    "shown_url",
    "sqlite_path",
    "store_revision",
    "upgrade_schema",
    "write_scope",
]

T = TypeVar("T")

READ_ONLY = "boflyt_read_only"
"""Execution option: begin this transaction deferred (SQLite) — it will not write."""

BUSY_TIMEOUT_MS = 60_000
"""How long a SQLite writer waits for the lock. With 200 processes on 2 cores a lock holder is
often descheduled: a 200-process model of a command's transactions gave 88-89 of 200 "database
is locked" at 5 s, 0 at 60 s (bench/store_processes.py: 200 CLI completes, 0 locked)."""

SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-32000",
    "PRAGMA wal_autocheckpoint=10000",
)

PG_CONNECT_TIMEOUT_S = 5

REVISIONS = (
    "0001_baseline", "0002_store_meta", "0003_run_sets", "0004_accounts", "0005_audit",
    "0006_imports", "0007_outbox",
)  # fmt: skip
"""The revisions in ``engine/migrations/versions``, oldest first (a test checks they agree)."""
HEAD = REVISIONS[-1]
VERSION_TABLE = "boflyt_revision"
"""The table holding the store's revision (not ``alembic_version``: another application's
Alembic table must never read as a Boflyt store)."""
BASELINE_TABLES = frozenset(
    {"published_version", "case_run", "work_item", "event", "simulation_run"}
)
"""The tables every Boflyt store has had since the first release."""

QUICK_CHECK_MAX_BYTES = 64 * 2**20
"""SQLite files up to this size get ``PRAGMA quick_check`` on every open, so a damaged file is an
error rather than a store that reads as empty. Measured here (2 cores, warm cache): 10 ms at
11 MB, 50 ms at 53 MB, 91 ms at 103 MB, 205 ms at 253 MB (``integrity_check``: 5x that)."""

_PG_MIGRATION_LOCK = 0x626F666C7974  # "boflyt"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``: SQLite configured as above, anything else as given.

    A plain ``postgresql://`` URL is upgraded to the psycopg 3 driver. A SQLite file that does
    not exist yet is created empty and owner-only (0600).
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", PG_CONNECT_TIMEOUT_S)
        server = sa.create_engine(url, **kwargs)
        sa.event.listen(server, "checkin", _idle_from)
        sa.event.listen(server, "checkout", partial(_ping_if_idle, server.dialect))
        return server
    engine = sa.create_engine(url, **kwargs)
    _create_private(sqlite_path(engine))
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


PG_PING_IDLE_S = 10.0
"""A pooled PostgreSQL connection idle longer than this is pinged when checked out (one round
trip); one used more recently is not (SQLAlchemy's ``pool_pre_ping`` pings every checkout, a
third of a command's round trips). A connection that broke within that time fails its first
statement: a case command then runs again once on a new connection
(:func:`boflyt.engine.store.commands.complete_step`), and SQLAlchemy drops the pool's older
connections."""


def _idle_from(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info["idle_from"] = time.monotonic()


def _ping_if_idle(dialect: sa.Dialect, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that waited in the pool longer than :data:`PG_PING_IDLE_S`; a dead
    one is replaced (the pool retries the checkout on a ``DisconnectionError``)."""
    idle_from = record.info.get("idle_from")
    if idle_from is None or time.monotonic() - idle_from < PG_PING_IDLE_S:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except psycopg.Error as exc:
        raise sa.exc.DisconnectionError(f"a pooled connection died while idle: {exc}") from exc


def sqlite_path(engine: Engine) -> Path | None:
    """The SQLite file of ``engine``; None for PostgreSQL or an in-memory database."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def _create_private(path: Path | None) -> None:
    """Create the store file 0600 if missing; tighten an existing file, ``-wal`` and ``-shm`` of
    ours to 0600 (SQLite gives the ``-wal``/``-shm`` it creates the store file's mode)."""
    if path is None or not path.parent.is_dir():
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError:
        return  # a read-only folder: open_schema says so
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            info = each.stat()
            if info.st_mode & 0o077 and info.st_uid == os.getuid():
                each.chmod(0o600)
        except OSError:
            continue


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    # Asking for WAL on every connect needs a lock each time; ask only when it is not set yet
    # (the mode is stored in the file, so this is once per store).
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    deferred = connection.get_execution_options().get(READ_ONLY, False)
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("BEGIN" if deferred else "BEGIN IMMEDIATE")


def shown_url(engine: Engine) -> str:
    """Where the store is, for messages: the SQLite file, or the URL with its password masked."""
    path = sqlite_path(engine)
    return str(path) if path is not None else engine.url.render_as_string(hide_password=True)


# --------------------------------------------------------------------------- revisions


@dataclass(frozen=True)
class StoreRevision:
    """What a store holds: its Boflyt revision (None: none recorded) and its table names."""

    revision: str | None
    tables: frozenset[str]

    @property
    def empty(self) -> bool:
        return not self.tables

    @property
    def unrevisioned(self) -> bool:
        """Boflyt tables made before revisions were recorded (``metadata.create_all``)."""
        return self.revision is None and self.tables >= BASELINE_TABLES

    @property
    def label(self) -> str:
        return self.revision or ("none (made before revisions)" if self.tables else "none (empty)")


def store_revision(engine: Engine) -> StoreRevision:
    """The store's revision, read in a read-only transaction (no write lock).

    Raises:
        StoreError: the store cannot be reached or read (one line saying where and why).
    """
    return _translated(engine, lambda: _in_read(engine, _read_revision))


def _in_read(engine: Engine, read: Callable[[Connection], T]) -> T:
    with read_scope(engine) as conn:
        return read(conn)


def _read_revision(conn: Connection) -> StoreRevision:
    tables = frozenset(sa.inspect(conn).get_table_names())
    revision = None
    if VERSION_TABLE in tables:
        revision = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
    return StoreRevision(revision, tables)


def open_schema(engine: Engine, *, upgrade: bool | None = None) -> StoreRevision:
    """Make sure the store is at this code's revision; the cheap check is read-only.

    An empty store is created; a store made before revisions were recorded, or at an older
    revision, is upgraded when ``upgrade`` is true (default: on SQLite only — a shared
    PostgreSQL store is upgraded on purpose with ``boflyt db upgrade``).

    Raises:
        StoreError: the store is unreachable, damaged, read-only, another application's, newer
            than this code, or older and not to be upgraded here (one line each).
    """
    found = _inspect(engine)
    if found.revision == HEAD:
        return found
    _refuse(engine, found)
    may_upgrade = engine.dialect.name == "sqlite" if upgrade is None else upgrade
    if not found.empty and not may_upgrade:
        raise StoreError(
            f"the store {shown_url(engine)} is at revision {found.label}; this Boflyt needs "
            f"{HEAD}; run 'boflyt db upgrade' (back the store up first)"
        )
    migrate(engine)
    return StoreRevision(HEAD, found.tables)


create_schema = open_schema
"""The old name: callers that created the schema now open it (create, upgrade or check)."""


def upgrade_schema(engine: Engine) -> tuple[str, str]:
    """``boflyt db upgrade``: check the store as :func:`open_schema` does, then :func:`migrate`.

    Raises:
        StoreError: as :func:`open_schema` (but an older store is upgraded, on any database).
    """
    _refuse(engine, _inspect(engine))
    return migrate(engine)


def _inspect(engine: Engine) -> StoreRevision:
    """The file checks (SQLite), then the revision read-only, then ``quick_check`` (SQLite)."""
    path = sqlite_path(engine)
    if path is not None:
        _check_file(path)
    found = store_revision(engine)
    if path is not None and not found.empty:
        _quick_check(engine, path)
    return found


def migrate(engine: Engine) -> tuple[str, str]:
    """Bring the store to :data:`HEAD` under the migration lock; (revision before, after).

    On SQLite the write lock is taken first (``BEGIN IMMEDIATE``); on PostgreSQL a transaction
    takes ``pg_advisory_xact_lock``, so other processes wait and then find the store at head.
    The revision is read again inside the lock. DDL is transactional on both: a migration that
    fails leaves the store as it was.

    Raises:
        StoreError: as :func:`open_schema`.
    """
    return _translated(engine, lambda: _migrate_locked(engine))


def _migrate_locked(engine: Engine) -> tuple[str, str]:
    # Alembic (and Mako) cost ~150 ms to import: only a migration pays for them.
    migrations = importlib.import_module("boflyt.engine.store.migrations")
    with write_scope(engine) as conn:
        if engine.dialect.name != "sqlite":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        found = _read_revision(conn)
        _refuse(engine, found)
        if found.revision == HEAD:
            return HEAD, HEAD
        if found.unrevisioned:
            migrations.stamp(conn, _unrevisioned_at(conn, found.tables))
        migrations.upgrade(conn, HEAD)
        return found.label, HEAD


def _unrevisioned_at(conn: Connection, tables: frozenset[str]) -> str:
    """The revision whose schema a store made before revisions were kept has."""
    if "store_meta" not in tables:
        return REVISIONS[0]
    if "account" in tables:
        return HEAD
    columns = {column["name"] for column in sa.inspect(conn).get_columns("simulation_run")}
    return "0003_run_sets" if "number" in columns else "0002_store_meta"


def _refuse(engine: Engine, found: StoreRevision) -> None:
    """One line for a store this code must not touch: newer, or another application's."""
    where = shown_url(engine)
    if found.revision is not None and found.revision not in REVISIONS:
        raise StoreError(
            f"the store {where} is at revision {found.revision}, newer than this Boflyt "
            f"(knows up to {HEAD}); upgrade Boflyt to use it"
        )
    if found.revision is None and found.tables and not found.unrevisioned:
        shown = ", ".join(sorted(found.tables)[:5]) + (", …" if len(found.tables) > 5 else "")
        raise StoreError(
            f"the store {where} holds another application's tables ({shown}) and no Boflyt "
            "revision; point BOFLYT_DATABASE_URL or BOFLYT_DATA_DIR at an empty or Boflyt store"
        )


# --------------------------------------------------------------------------- file checks


def _check_file(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise StoreError(f"the store folder {folder} does not exist")
    if path.exists() and not path.is_file():
        raise StoreError(f"the store {path} is not a file")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise StoreError(
            f"the store {path} is read-only (file or folder not writable); SQLite needs to "
            "write the file and its -wal/-shm beside it; fix the permissions or copy the store"
        )


def _quick_check(engine: Engine, path: Path) -> None:
    """``PRAGMA quick_check`` on stores small enough to check at every open."""
    if path.stat().st_size > QUICK_CHECK_MAX_BYTES:
        return
    result = _translated(
        engine, lambda: _in_read(engine, lambda c: c.exec_driver_sql("PRAGMA quick_check").all())
    )
    if [tuple(row) for row in result] != [("ok",)]:
        found = " ".join(str(result[0][0]).split())[:120]  # one line, however SQLite words it
        raise StoreError(
            f"the store {path} is damaged (SQLite quick_check: {found}); restore it from a backup"
        )


def _translated(engine: Engine, fn: Callable[[], T]) -> T:
    """Run ``fn``; a database error becomes one :class:`StoreError` line saying where and why."""
    try:
        return fn()
    except (sa.exc.DBAPIError, sqlite3.Error, psycopg.Error) as exc:
        orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        text = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        raise StoreError(_explain(engine, text)) from None


def _explain(engine: Engine, text: str) -> str:
    where = shown_url(engine)
    if "file is not a database" in text or "malformed" in text:
        return (
            f"the store {where} is not a readable Boflyt store ({text}): the file is damaged "
            "or not an SQLite database; restore it from a backup or move it away"
        )
    if "readonly" in text or "unable to open" in text:
        return f"the store {where} cannot be written ({text}); check its file and folder"
    if engine.dialect.name == "sqlite":
        return f"the store {where} failed: {text}"
    return f"cannot use the PostgreSQL store {where}: {text}"


# --------------------------------------------------------------------------- scopes


@contextmanager
def write_scope(engine: Engine) -> Iterator[Connection]:
    """One write transaction (``BEGIN IMMEDIATE`` on SQLite): commit, or roll back on error."""
    with engine.begin() as connection:
        yield connection


class SqliteTransaction:
    """:func:`write_scope` on the SQLite driver's own connection, for a command's statements run
    straight on it: ``BEGIN IMMEDIATE``, then ``COMMIT``, or ``ROLLBACK`` on any error (the
    pool's connection, checked out and back as a :func:`write_scope` would). A class, not a
    generator: a command pays for its transaction's scope once, not for a generator's frames."""

    __slots__ = ("_driver", "_pooled")

    def __init__(self, engine: Engine) -> None:
        self._pooled = engine.raw_connection()
        driver = self._pooled.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        self._driver = driver

    def __enter__(self) -> sqlite3.Connection:
        try:
            self._driver.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._pooled.close()
            raise
        return self._driver

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        driver = self._driver
        try:
            if kind is None:
                try:
                    driver.execute("COMMIT")
                except BaseException:
                    if driver.in_transaction:
                        driver.execute("ROLLBACK")
                    raise
            elif driver.in_transaction:
                driver.execute("ROLLBACK")
        finally:
            self._pooled.close()


@contextmanager
def read_scope(engine: Engine) -> Iterator[Connection]:
    """One read transaction; on SQLite a deferred ``BEGIN`` that never takes the write lock."""
    with engine.connect() as connection:
        connection = connection.execution_options(**{READ_ONLY: True})
        with connection.begin():
            yield connection
