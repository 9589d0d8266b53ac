"""The store's SQL: table handles, the per-command statements and the rows they read.

Shared by :mod:`boflyt.engine.store.commands` (commands), :mod:`boflyt.engine.store.queries`
(reads) and
:mod:`boflyt.engine.store.eventlog` (bulk writes and the analysis frame). Each statement exists as
a Core
statement (any database) and as plain SQL with named parameters for the SQLite fast path, which
hands it straight to the driver inside the same ``BEGIN IMMEDIATE`` transaction (no compilation
or caching cost per statement). Datetimes are naive UTC; on SQLite they are written as the same
text SQLAlchemy writes, so both paths read each other's rows.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from boflyt.engine.case.decide import CaseState, WorkItem
from boflyt.engine.case.flow import Flow, compile_flow
from boflyt.models.definition import Version
from boflyt.models.errors import ConflictError, NotFoundError, StoreError
from boflyt.models.events import EVENT_COLUMNS
from boflyt.models.tables import CaseRun, EventRow, PublishedVersion, SimulationRun, WorkItemRow
from boflyt.models.vocabulary import ItemStatus, Mode, RunStatus

__all__ = [
    "CASE_TABLE",
    "EVENT_TABLE",
    "ITEM_COLUMNS",
    "ITEM_FIELDS",
    "ITEM_TABLE",
    "LOG_COLUMNS",
    "SIMULATION_TABLE",
    "VERSION_TABLE",
    "execute",
    "load_case",
    "published_flow",
    "published_hash",
    "translate_errors",
    "utc",
]

T = TypeVar("T")

CASE_TABLE = CaseRun.__table__  # type: ignore[attr-defined]
ITEM_TABLE = WorkItemRow.__table__  # type: ignore[attr-defined]
EVENT_TABLE = EventRow.__table__  # type: ignore[attr-defined]
VERSION_TABLE = PublishedVersion.__table__  # type: ignore[attr-defined]
SIMULATION_TABLE = SimulationRun.__table__  # type: ignore[attr-defined]
ITEM_FIELDS = ("started_at", "done_at", "actor", "org", "outcome", "touch_minutes", "escalated")
_FLOWS: dict[tuple[sa.URL, str, int, str], Flow] = {}
"""Compiled flows by (engine, process, version, content hash)."""


def utc(at: dt.datetime) -> dt.datetime:
    """Naive UTC: aware datetimes are converted, naive ones are taken as UTC already."""
    return at.astimezone(dt.UTC).replace(tzinfo=None) if at.tzinfo else at


def translate_errors(fn: Callable[[], T]) -> T:
    """Run ``fn``; turn database errors into Boflyt errors that say what to do.

    Constraint violations and lock timeouts or serialization failures become a
    :class:`ConflictError` (retry); anything else from the database a :class:`StoreError`.
    Errors come wrapped by SQLAlchemy or, on the fast paths, straight from the driver.
    """
    try:
        return fn()
    except (sa.exc.DBAPIError, sqlite3.Error, psycopg.Error) as exc:
        orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        text = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
        if isinstance(exc, sa.exc.IntegrityError | sqlite3.IntegrityError | psycopg.IntegrityError):
            raise ConflictError(f"a concurrent or repeated change collided: {text}") from exc
        if any(word in text for word in ("locked", "could not serialize", "deadlock")):
            raise ConflictError(f"the store is busy ({text}); retry") from exc
        raise StoreError(f"the store failed: {text}") from exc


def published_hash(conn: Connection, process: str, number: int) -> str | None:
    """The content hash ``process@v{number}`` was published with, or None."""
    query = sa.select(VERSION_TABLE.c.content_hash).where(
        VERSION_TABLE.c.process == process, VERSION_TABLE.c.version == number
    )
    return conn.execute(query).scalar_one_or_none()


def published_flow(conn: Connection, process: str, number: int, content_hash: str) -> Flow:
    """The compiled flow of the stored version (cached per engine); the YAML is not read."""
    key = (conn.engine.url, process, number, content_hash)
    flow = _FLOWS.get(key)
    if flow is None:
        query = sa.select(VERSION_TABLE.c.canonical, VERSION_TABLE.c.outside_lanes).where(
            VERSION_TABLE.c.process == process, VERSION_TABLE.c.version == number
        )
        row = conn.execute(query).one_or_none()
        if row is None:
            raise NotFoundError(f"{process}@v{number} is not published in this store")
        version = Version.model_validate_json(row.canonical)
        if version.content_hash != content_hash:
            raise StoreError(f"{process}@v{number}: stored content does not match {content_hash}")
        outside = frozenset(filter(None, row.outside_lanes.split(",")))
        flow = _FLOWS[key] = compile_flow(version, outside)
    return flow


# The per-command statements, as Core statements (any database) and as plain SQL with
# named parameters for the SQLite fast path, which hands them straight to the driver inside
# the same BEGIN IMMEDIATE transaction (no compilation or caching cost per statement).
_CASE_COLUMNS = (
    "id", "process", "version", "content_hash", "status", "arrivals", "last_seq", "started_at",
    "finished_at", "row_version", "mode", "simulation_id",
)  # fmt: skip
ITEM_COLUMNS = ("number", "step", "status", "ready_at", *ITEM_FIELDS)
LOG_COLUMNS = (*EVENT_COLUMNS, "process", "version", "mode", "simulation_id")
_ITEM_UPDATED = ("status", *ITEM_FIELDS)


def _sql_insert(table: str, columns: Iterable[str]) -> str:
    names = list(columns)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES (:{', :'.join(names)})"


_SQL: dict[str, tuple[Any, str]] = {
    "case": (
        sa.select(*(CASE_TABLE.c[n] for n in _CASE_COLUMNS)).where(
            CASE_TABLE.c.id == sa.bindparam("case_id")
        ),
        f"SELECT {', '.join(_CASE_COLUMNS)} FROM case_run WHERE id = :case_id",
    ),
    "items": (
        sa.select(*(ITEM_TABLE.c[n] for n in ITEM_COLUMNS))
        .where(ITEM_TABLE.c.case_id == sa.bindparam("case_id"))
        .order_by(ITEM_TABLE.c.number),
        f"SELECT {', '.join(ITEM_COLUMNS)} FROM work_item WHERE case_id = :case_id ORDER BY number",
    ),
    "cas": (  # the case stays running: leave the indexed status column alone
        CASE_TABLE.update()
        .where(
            CASE_TABLE.c.id == sa.bindparam("case_id"),
            CASE_TABLE.c.row_version == sa.bindparam("read"),
        )
        .values(
            row_version=CASE_TABLE.c.row_version + 1,
            **{n: sa.bindparam(n) for n in ("last_seq", "arrivals")},
        ),
        "UPDATE case_run SET row_version = row_version + 1, last_seq = :last_seq, "
        "arrivals = :arrivals WHERE id = :case_id AND row_version = :read",
    ),
    "cas_close": (  # the case finishes or is cancelled
        CASE_TABLE.update()
        .where(
            CASE_TABLE.c.id == sa.bindparam("case_id"),
            CASE_TABLE.c.row_version == sa.bindparam("read"),
        )
        .values(
            row_version=CASE_TABLE.c.row_version + 1,
            **{n: sa.bindparam(n) for n in ("status", "finished_at", "last_seq", "arrivals")},
        ),
        "UPDATE case_run SET row_version = row_version + 1, status = :status, "
        "finished_at = :finished_at, last_seq = :last_seq, arrivals = :arrivals "
        "WHERE id = :case_id AND row_version = :read",
    ),
    "update_item": (
        ITEM_TABLE.update()
        .where(
            ITEM_TABLE.c.case_id == sa.bindparam("k_case"),
            ITEM_TABLE.c.number == sa.bindparam("k_number"),
        )
        .values({n: sa.bindparam(n) for n in _ITEM_UPDATED}),
        f"UPDATE work_item SET {', '.join(f'{n} = :{n}' for n in _ITEM_UPDATED)} "
        "WHERE case_id = :k_case AND number = :k_number",
    ),
    "insert_item": (ITEM_TABLE.insert(), _sql_insert("work_item", ("case_id", *ITEM_COLUMNS))),
    "upsert_item": (
        None,  # SQLite only; other databases insert and update separately
        _sql_insert("work_item", ("case_id", *ITEM_COLUMNS))
        + " ON CONFLICT (case_id, number) DO UPDATE SET "
        + ", ".join(f"{n} = excluded.{n}" for n in _ITEM_UPDATED),
    ),
    "insert_event": (EVENT_TABLE.insert(), _sql_insert("event", LOG_COLUMNS)),
}


_TIMES = {
    "cas_close": ("finished_at",),
    "update_item": ("started_at", "done_at"),
    "upsert_item": ("ready_at", "started_at", "done_at"),
    "insert_item": ("ready_at", "started_at", "done_at"),
    "insert_event": ("at",),
}
"""The datetime parameters of each statement, written as text on the SQLite fast path."""


def _sqlite_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Datetimes as SQLAlchemy's SQLite DATETIME text, so both paths read each other's rows."""
    for key in _TIMES.get(name, ()):
        value = params[key]
        if value is not None:
            params[key] = value.isoformat(" ", "microseconds")
    return params


def execute(conn: Connection, name: str, params: Any) -> Any:
    """Run statement ``name`` with one dict or a list of dicts; return the cursor."""
    statement, sql = _SQL[name]
    if conn.dialect.name != "sqlite":
        return conn.execute(statement, params)
    driver = conn.connection.driver_connection
    assert driver is not None
    if isinstance(params, list):
        return driver.executemany(sql, [_sqlite_params(name, row) for row in params])
    return driver.execute(sql, _sqlite_params(name, params))


def _when(value: Any) -> Any:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def load_case(conn: Connection, case_id: str) -> tuple[CaseState, int, Mode, str | None]:
    """A case's state, ``row_version``, mode and simulation id; :class:`NotFoundError` if none."""
    row = execute(conn, "case", {"case_id": case_id}).fetchone()
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    items = tuple(
        WorkItem(
            r[0], r[1], ItemStatus(r[2]), _when(r[3]), _when(r[4]), _when(r[5]), r[6], r[7],
            r[8], r[9], bool(r[10]),
        )
        for r in execute(conn, "items", {"case_id": case_id}).fetchall()
    )  # fmt: skip
    (case, process, version, content_hash, status, arrivals, seq, started, finished,
     row_version, mode, simulation_id) = row  # fmt: skip
    state = CaseState(
        case, process, version, content_hash, RunStatus(status),
        items, tuple((join, tuple(sources)) for join, sources in json.loads(arrivals)), seq,
        _when(started), _when(finished),
    )  # fmt: skip
    return state, row_version, Mode(mode), simulation_id
