"""The case store: one transaction per command, optimistic locking, bulk paths for simulation.

Each command runs in one write transaction (``BEGIN IMMEDIATE`` on SQLite): load the case
(its row, work items, last event number), let :func:`engine.case.decide` decide, then
compare-and-set ``row_version`` (``UPDATE … WHERE id = :id AND row_version = :read``); a
rowcount other than 1 means someone else changed the case in between, and the command fails
with :class:`ConflictError` having changed nothing. The new state, work items and events are
written in that same transaction, so they commit together or not at all.

A case is pinned to the version it started on: the version's canonical JSON is stored in
``published_version`` and later commands rebuild it from there, whatever the YAML says now.
Case references are stored only as keyed pseudonyms (:mod:`engine.pseudonym`).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar

import polars as pl
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from engine.case import (
    BeginStep,
    CancelCase,
    CaseState,
    CompleteStep,
    Escalate,
    Flow,
    StartCase,
    WorkItem,
    compile_flow,
    decide,
    overdue_items,
)
from engine.db import read_scope, write_scope
from engine.pseudonym import ReferenceKey
from models.definition import LaneCatalog, Version
from models.errors import CommandError, ConflictError, NotFoundError, StoreError
from models.events import EVENT_COLUMNS, Event
from models.tables import CaseRun, EventRow, PublishedVersion, SimulationRun, WorkItemRow
from models.vocabulary import EventKind, ItemStatus, Mode, RunStatus

__all__ = [
    "CaseSummary",
    "InboxEntry",
    "append_simulated",
    "begin_step",
    "cancel_case",
    "case_timeline",
    "complete_step",
    "escalate_overdue",
    "event_frame",
    "find_case_by_ref",
    "get_case",
    "get_version",
    "inbox",
    "list_cases",
    "publish_version",
    "resolve_case_id",
    "start_case",
]

T = TypeVar("T")

_CASE = CaseRun.__table__  # type: ignore[attr-defined]
_ITEM = WorkItemRow.__table__  # type: ignore[attr-defined]
_EVENT = EventRow.__table__  # type: ignore[attr-defined]
_VERSION = PublishedVersion.__table__  # type: ignore[attr-defined]
_SIMULATION = SimulationRun.__table__  # type: ignore[attr-defined]
_ITEM_FIELDS = ("started_at", "done_at", "actor", "org", "outcome", "touch_minutes", "escalated")
_FLOWS: dict[tuple[sa.URL, str, int, str], Flow] = {}
"""Compiled flows by (engine, process, version, content hash)."""


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """One line of a case list. ``pseudonym`` is the keyed hash of the reference (or None)."""

    id: str
    pseudonym: str | None
    process: str
    version: int
    content_hash: str
    mode: Mode
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """A ready or started work item an organisation may act on, with how long it has waited."""

    case_id: str
    process: str
    version: int
    item: int
    step: str
    status: ItemStatus
    ready_at: dt.datetime
    started_at: dt.datetime | None
    waited: dt.timedelta
    escalated: bool


def _utc(at: dt.datetime) -> dt.datetime:
    """Naive UTC: aware datetimes are converted, naive ones are taken as UTC already."""
    return at.astimezone(dt.UTC).replace(tzinfo=None) if at.tzinfo else at


def _translate(fn: Callable[[], T]) -> T:
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


# --------------------------------------------------------------------------- versions


def publish_version(
    engine: Engine,
    version: Version,
    *,
    lanes: LaneCatalog | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Store ``version`` so cases can be pinned to it; idempotent for identical content.

    Raises :class:`ConflictError` when ``process@vN`` is already stored with other content.
    """
    outside = sorted(_outside(version, lanes))
    content_hash = compile_flow(version).content_hash  # cached: hashing means serialising
    at = _utc(now or dt.datetime.now(dt.UTC))

    def run() -> None:
        with write_scope(engine) as conn:
            stored = _published_hash(conn, version.process, version.version)
            if stored is None:
                conn.execute(
                    _VERSION.insert().values(
                        process=version.process, version=version.version,
                        content_hash=content_hash, canonical=version.canonical(),
                        outside_lanes=",".join(outside), published_at=at,
                    )
                )  # fmt: skip
            elif stored != content_hash:
                raise ConflictError(
                    f"{version.key} is already published with content hash {stored[:12]}; this "
                    f"one has {content_hash[:12]}; publish changed content as a new version number"
                )

    _translate(run)


def _outside(version: Version, lanes: LaneCatalog | None) -> frozenset[str]:
    if lanes is None:
        return frozenset()
    return frozenset(lane.id for lane in lanes.lanes if lane.outside and lane.id in version.lanes)


def _published_hash(conn: Connection, process: str, number: int) -> str | None:
    query = sa.select(_VERSION.c.content_hash).where(
        _VERSION.c.process == process, _VERSION.c.version == number
    )
    return conn.execute(query).scalar_one_or_none()


def _flow(conn: Connection, process: str, number: int, content_hash: str) -> Flow:
    key = (conn.engine.url, process, number, content_hash)
    flow = _FLOWS.get(key)
    if flow is None:
        query = sa.select(_VERSION.c.canonical, _VERSION.c.outside_lanes).where(
            _VERSION.c.process == process, _VERSION.c.version == number
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


def get_version(engine: Engine, *, process: str, version: int) -> Version:
    """The published version ``process@v{version}`` as stored; :class:`NotFoundError` if none."""
    with read_scope(engine) as conn:
        content_hash = _published_hash(conn, process, version)
        if content_hash is None:
            raise NotFoundError(f"{process}@v{version} is not published in this store")
        return _flow(conn, process, version, content_hash).version


# --------------------------------------------------------------------------- commands


def start_case(
    engine: Engine,
    *,
    version: Version,
    ref: str,
    key: ReferenceKey,
    actor: str,
    org: str,
    now: dt.datetime,
    lanes: LaneCatalog | None = None,
    mode: Mode = Mode.LIVE,
    case_id: str | None = None,
) -> CaseState:
    """Publish ``version`` if needed and start a case on it for the reference ``ref``.

    Only the keyed pseudonym of ``ref`` is stored. Raises :class:`ConflictError` when a running
    case of the same process already has this reference.
    """
    publish_version(engine, version, lanes=lanes, now=now)
    ref_key, now = key.pseudonym(ref), _utc(now)
    command = StartCase(case_id or str(uuid.uuid4()), actor, org)

    def run() -> CaseState:
        with write_scope(engine) as conn:
            content_hash = compile_flow(version).content_hash
            flow = _flow(conn, version.process, version.version, content_hash)
            _refuse_duplicate(conn, version.process, ref_key)
            decision = decide(flow, None, command, now=now)
            state = decision.state
            conn.execute(
                _CASE.insert().values(
                    id=state.case_id, ref_key=ref_key, process=state.process,
                    version=state.version, content_hash=state.content_hash, mode=mode.value,
                    status=state.status.value, started_at=state.started_at, row_version=1,
                    last_seq=state.seq, arrivals=json.dumps(state.arrivals),
                )
            )  # fmt: skip
            _write_items(conn, state.case_id, (), state.items)
            _write_events(conn, decision.events, state, mode, None)
            return state

    return _translate(run)


def _refuse_duplicate(conn: Connection, process: str, ref_key: str) -> None:
    query = sa.select(_CASE.c.id).where(
        _CASE.c.ref_key == ref_key,
        _CASE.c.process == process,
        _CASE.c.status == RunStatus.RUNNING.value,
    )
    existing = conn.execute(query).scalars().first()
    if existing is not None:
        raise ConflictError(
            f"a running {process} case already has this reference: {existing}; "
            "continue that case or cancel it first"
        )


def begin_step(
    engine: Engine, *, case_id: str, step: str, actor: str, org: str, now: dt.datetime
) -> CaseState:
    """Record that ``actor`` of ``org`` has begun work on the ready step ``step``."""
    return _command(engine, case_id, BeginStep(step, actor, org), now)


def complete_step(
    engine: Engine,
    *,
    case_id: str,
    step: str,
    actor: str,
    org: str,
    now: dt.datetime,
    outcome: str | None = None,
    touch_minutes: float | None = None,
) -> CaseState:
    """Complete the open step ``step`` (with the decision's ``outcome``) and move the case on."""
    command = CompleteStep(step, actor, org, outcome, touch_minutes)
    return _command(engine, case_id, command, now)


def cancel_case(
    engine: Engine,
    *,
    case_id: str,
    actor: str,
    org: str,
    now: dt.datetime,
    reason: str | None = None,
) -> CaseState:
    """Cancel a running case and every open work item in it."""
    return _command(engine, case_id, CancelCase(actor, org, reason), now)


def _command(
    engine: Engine,
    case_id: str,
    command: BeginStep | CompleteStep | CancelCase | Escalate,
    now: dt.datetime,
) -> CaseState:
    now = _utc(now)

    def run() -> CaseState:
        with write_scope(engine) as conn:
            state, row_version, mode, simulation_id = _load(conn, case_id)
            flow = _flow(conn, state.process, state.version, state.content_hash)
            decision = decide(flow, state, command, now=now)
            _compare_and_set(conn, decision.state, row_version)
            _write_items(conn, case_id, state.items, decision.state.items)
            _write_events(conn, decision.events, decision.state, mode, simulation_id)
            return decision.state

    return _translate(run)


# The per-command statements, as Core statements (any database) and as plain SQL with
# named parameters for the SQLite fast path, which hands them straight to the driver inside
# the same BEGIN IMMEDIATE transaction (no compilation or caching cost per statement).
_CASE_COLUMNS = (
    "id", "process", "version", "content_hash", "status", "arrivals", "last_seq", "started_at",
    "finished_at", "row_version", "mode", "simulation_id",
)  # fmt: skip
_ITEM_COLUMNS = ("number", "step", "status", "ready_at", *_ITEM_FIELDS)
_EVENT_COLUMNS = (*EVENT_COLUMNS, "process", "version", "mode", "simulation_id")
_ITEM_UPDATED = ("status", *_ITEM_FIELDS)


def _sql_insert(table: str, columns: Iterable[str]) -> str:
    names = list(columns)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES (:{', :'.join(names)})"


_SQL: dict[str, tuple[Any, str]] = {
    "case": (
        sa.select(*(_CASE.c[n] for n in _CASE_COLUMNS)).where(
            _CASE.c.id == sa.bindparam("case_id")
        ),
        f"SELECT {', '.join(_CASE_COLUMNS)} FROM case_run WHERE id = :case_id",
    ),
    "items": (
        sa.select(*(_ITEM.c[n] for n in _ITEM_COLUMNS))
        .where(_ITEM.c.case_id == sa.bindparam("case_id"))
        .order_by(_ITEM.c.number),
        f"SELECT {', '.join(_ITEM_COLUMNS)} FROM work_item WHERE case_id = :case_id "
        "ORDER BY number",
    ),
    "cas": (  # the case stays running: leave the indexed status column alone
        _CASE.update()
        .where(_CASE.c.id == sa.bindparam("case_id"), _CASE.c.row_version == sa.bindparam("read"))
        .values(
            row_version=_CASE.c.row_version + 1,
            **{n: sa.bindparam(n) for n in ("last_seq", "arrivals")},
        ),
        "UPDATE case_run SET row_version = row_version + 1, last_seq = :last_seq, "
        "arrivals = :arrivals WHERE id = :case_id AND row_version = :read",
    ),
    "cas_close": (  # the case finishes or is cancelled
        _CASE.update()
        .where(_CASE.c.id == sa.bindparam("case_id"), _CASE.c.row_version == sa.bindparam("read"))
        .values(
            row_version=_CASE.c.row_version + 1,
            **{n: sa.bindparam(n) for n in ("status", "finished_at", "last_seq", "arrivals")},
        ),
        "UPDATE case_run SET row_version = row_version + 1, status = :status, "
        "finished_at = :finished_at, last_seq = :last_seq, arrivals = :arrivals "
        "WHERE id = :case_id AND row_version = :read",
    ),
    "update_item": (
        _ITEM.update()
        .where(
            _ITEM.c.case_id == sa.bindparam("k_case"), _ITEM.c.number == sa.bindparam("k_number")
        )
        .values({n: sa.bindparam(n) for n in _ITEM_UPDATED}),
        f"UPDATE work_item SET {', '.join(f'{n} = :{n}' for n in _ITEM_UPDATED)} "
        "WHERE case_id = :k_case AND number = :k_number",
    ),
    "insert_item": (_ITEM.insert(), _sql_insert("work_item", ("case_id", *_ITEM_COLUMNS))),
    "upsert_item": (
        None,  # SQLite only; other databases insert and update separately
        _sql_insert("work_item", ("case_id", *_ITEM_COLUMNS))
        + " ON CONFLICT (case_id, number) DO UPDATE SET "
        + ", ".join(f"{n} = excluded.{n}" for n in _ITEM_UPDATED),
    ),
    "insert_event": (_EVENT.insert(), _sql_insert("event", _EVENT_COLUMNS)),
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


def _exec(conn: Connection, name: str, params: Any) -> Any:
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


def _load(conn: Connection, case_id: str) -> tuple[CaseState, int, Mode, str | None]:
    row = _exec(conn, "case", {"case_id": case_id}).fetchone()
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    items = tuple(
        WorkItem(
            r[0], r[1], ItemStatus(r[2]), _when(r[3]), _when(r[4]), _when(r[5]), r[6], r[7],
            r[8], r[9], bool(r[10]),
        )
        for r in _exec(conn, "items", {"case_id": case_id}).fetchall()
    )  # fmt: skip
    (case, process, version, content_hash, status, arrivals, seq, started, finished,
     row_version, mode, simulation_id) = row  # fmt: skip
    state = CaseState(
        case, process, version, content_hash, RunStatus(status),
        items, tuple((join, tuple(sources)) for join, sources in json.loads(arrivals)), seq,
        _when(started), _when(finished),
    )  # fmt: skip
    return state, row_version, Mode(mode), simulation_id


def _compare_and_set(conn: Connection, state: CaseState, row_version: int) -> None:
    """Raise ``row_version`` by one unless someone else did since we read it."""
    values = {"case_id": state.case_id, "read": row_version, "last_seq": state.seq,
              "arrivals": json.dumps(state.arrivals)}  # fmt: skip
    statement = "cas"
    if state.status is not RunStatus.RUNNING:  # commands only run on running cases
        values |= {"status": state.status.value, "finished_at": state.finished_at}
        statement = "cas_close"
    if _exec(conn, statement, values).rowcount != 1:
        raise ConflictError(f"case {state.case_id} was changed by someone else; reload and retry")


def _item_row(case_id: str, item: WorkItem) -> dict[str, Any]:
    return {
        "case_id": case_id, "number": item.number, "step": item.step,
        "status": item.status.value, "ready_at": item.ready_at, "started_at": item.started_at,
        "done_at": item.done_at, "actor": item.actor, "org": item.org, "outcome": item.outcome,
        "touch_minutes": item.touch_minutes, "escalated": item.escalated,
    }  # fmt: skip


def _write_items(
    conn: Connection, case_id: str, old: tuple[WorkItem, ...], new: tuple[WorkItem, ...]
) -> None:
    """Insert the new work items and update the changed ones (one upsert on SQLite)."""
    if conn.dialect.name == "sqlite":
        rows = [
            _item_row(case_id, item)
            for n, item in enumerate(new)
            if n >= len(old) or item is not old[n]
        ]
        if rows:
            _exec(conn, "upsert_item", rows)
        return
    added = [_item_row(case_id, item) for item in new[len(old) :]]
    changed = []
    for before, item in zip(old, new, strict=False):
        if item is not before:
            row = _item_row(case_id, item)
            row["k_case"], row["k_number"] = row.pop("case_id"), row.pop("number")
            changed.append(row)
    if added:
        _exec(conn, "insert_item", added)
    if changed:
        _exec(conn, "update_item", changed)


def _event_row(event: Event, extra: dict[str, Any]) -> dict[str, Any]:
    row = {name: getattr(event, name) for name in EVENT_COLUMNS}
    row["kind"] = event.kind.value
    row.update(extra)
    return row


def _write_events(
    conn: Connection,
    events: Iterable[Event],
    state: CaseState,
    mode: Mode,
    simulation_id: str | None,
) -> None:
    extra = {"process": state.process, "version": state.version, "mode": mode.value,
             "simulation_id": simulation_id}  # fmt: skip
    rows = [_event_row(event, extra) for event in events]
    if rows:
        _exec(conn, "insert_event", rows)


# --------------------------------------------------------------------------- queries


def resolve_case_id(engine: Engine, prefix: str) -> str:
    """The full id of the case whose id is or starts with ``prefix`` (at least 6 characters)."""
    prefix = prefix.strip().lower()
    if len(prefix) < 6:
        raise CommandError(f"a case id prefix needs at least 6 characters, not '{prefix}'")
    with read_scope(engine) as conn:
        query = sa.select(_CASE.c.id).where(_CASE.c.id.startswith(prefix, autoescape=True))
        found = list(conn.execute(query.limit(3)).scalars())
    if not found:
        raise NotFoundError(f"no case id starts with '{prefix}'")
    if len(found) > 1 and prefix not in found:
        raise CommandError(f"'{prefix}' matches several cases ({', '.join(found)}); give more")
    return prefix if prefix in found else found[0]


def get_case(engine: Engine, case_id: str) -> CaseState:
    """The stored state of one case; :class:`NotFoundError` if there is none."""
    with read_scope(engine) as conn:
        return _load(conn, case_id)[0]


def _summary(row: Any) -> CaseSummary:
    return CaseSummary(
        row.id, row.ref_key, row.process, row.version, row.content_hash, Mode(row.mode),
        RunStatus(row.status), row.started_at, row.finished_at,
    )  # fmt: skip


def list_cases(
    engine: Engine,
    *,
    process: str | None = None,
    status: RunStatus | str | None = None,
    mode: Mode | None = Mode.LIVE,
) -> list[CaseSummary]:
    """Cases, newest first, filtered by process, status and mode (live by default)."""
    query = sa.select(_CASE).order_by(_CASE.c.started_at.desc(), _CASE.c.id)
    if process is not None:
        query = query.where(_CASE.c.process == process)
    if status is not None:
        query = query.where(_CASE.c.status == RunStatus(status).value)
    if mode is not None:
        query = query.where(_CASE.c.mode == mode.value)
    with read_scope(engine) as conn:
        return [_summary(row) for row in conn.execute(query)]


def find_case_by_ref(
    engine: Engine, *, ref: str, key: ReferenceKey, process: str | None = None
) -> list[CaseSummary]:
    """Cases started with reference ``ref`` (matched by its pseudonym), newest first."""
    query = sa.select(_CASE).where(_CASE.c.ref_key == key.pseudonym(ref))
    if process is not None:
        query = query.where(_CASE.c.process == process)
    with read_scope(engine) as conn:
        rows = conn.execute(query.order_by(_CASE.c.started_at.desc())).all()
    return [_summary(row) for row in rows]


def inbox(engine: Engine, *, org: str, now: dt.datetime) -> list[InboxEntry]:
    """Ready and started work in running live cases that ``org`` may act on, oldest first."""
    now = _utc(now)
    query = (
        sa.select(_ITEM, _CASE.c.process, _CASE.c.version, _CASE.c.content_hash)
        .join(_CASE, _CASE.c.id == _ITEM.c.case_id)
        .where(_CASE.c.status == RunStatus.RUNNING.value, _CASE.c.mode == Mode.LIVE.value)
        .where(_ITEM.c.status.in_([ItemStatus.READY.value, ItemStatus.STARTED.value]))
        .order_by(_ITEM.c.ready_at, _ITEM.c.case_id, _ITEM.c.number)
    )
    entries = []
    with read_scope(engine) as conn:
        for r in conn.execute(query):
            flow = _flow(conn, r.process, r.version, r.content_hash)
            if org in flow.steps[r.step].allowed:
                entries.append(
                    InboxEntry(
                        r.case_id, r.process, r.version, r.number, r.step, ItemStatus(r.status),
                        r.ready_at, r.started_at, now - r.ready_at, bool(r.escalated),
                    )
                )  # fmt: skip
    return entries


def _to_event(row: Any) -> Event:
    values = {name: getattr(row, name) for name in EVENT_COLUMNS}
    values["kind"] = EventKind(values["kind"])
    return Event(**values)


def case_timeline(engine: Engine, case_id: str) -> list[Event]:
    """Every event of one case in order."""
    query = sa.select(_EVENT).where(_EVENT.c.case_id == case_id).order_by(_EVENT.c.seq)
    with read_scope(engine) as conn:
        return [_to_event(row) for row in conn.execute(query)]


# --------------------------------------------------------------------------- escalation


def escalate_overdue(engine: Engine, *, now: dt.datetime, library: object = None) -> int:
    """Escalate ready work items that have waited longer than their step allows.

    Each overdue item gets ``escalated = true`` and one ``step_escalated`` event, in the case's
    own command transaction; running it again changes nothing. The wait limit comes from the
    version each case is pinned to (``library`` is accepted for callers that have one and is
    not needed). Returns the number of items escalated; a case that changes concurrently is
    left for the next run.
    """
    now = _utc(now)
    query = (
        sa.select(_ITEM.c.case_id)
        .join(_CASE, _CASE.c.id == _ITEM.c.case_id)
        .where(_CASE.c.status == RunStatus.RUNNING.value, _CASE.c.mode == Mode.LIVE.value)
        .where(_ITEM.c.status == ItemStatus.READY.value, _ITEM.c.escalated.is_(False))
        .distinct()
    )
    with read_scope(engine) as conn:
        case_ids = sorted(conn.execute(query).scalars())
    escalated = 0
    for case_id in case_ids:
        state = get_case(engine, case_id)
        with read_scope(engine) as conn:
            flow = _flow(conn, state.process, state.version, state.content_hash)
        due = overdue_items(flow, state, now=now)
        if not due:
            continue
        try:
            _command(engine, case_id, Escalate(due, "waited longer than the step allows"), now)
        except ConflictError:
            continue
        escalated += len(due)
    return escalated


# ----------------------------------------------------------------- simulation and analysis


_CASE_BULK = (
    "id", "ref_key", "process", "version", "content_hash", "mode", "status", "started_at",
    "finished_at", "row_version", "last_seq", "arrivals", "simulation_id",
)  # fmt: skip
_ITEM_BULK = ("case_id", *_ITEM_COLUMNS)


def _bulk(
    conn: Connection, table: sa.Table, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Insert tuples fast: COPY on PostgreSQL, the driver's executemany on SQLite.

    Runs inside the caller's transaction. Returns the number of rows written.
    """
    driver = conn.connection.driver_connection
    written = 0
    if conn.dialect.name == "postgresql":
        sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
                written += 1
        return written
    times = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, sa.DateTime)]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    iterator = iter(rows)
    while chunk := list(islice(iterator, 20_000)):
        if conn.dialect.name == "sqlite":
            driver.executemany(sql, [_sqlite_times(row, times) for row in chunk])  # type: ignore[union-attr]
        else:
            conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in chunk])
        written += len(chunk)
    return written


def _sqlite_times(row: tuple[Any, ...], times: list[int]) -> list[Any]:
    values = list(row)
    for t in times:
        if values[t] is not None:
            values[t] = values[t].isoformat(" ", "microseconds")
    return values


def append_simulated(
    engine: Engine,
    *,
    simulation: SimulationRun,
    states: Iterable[CaseState],
    events: Iterable[Event],
    mode: Mode = Mode.SIMULATED,
) -> int:
    """Bulk-insert a simulated cohort: its run row, case runs, work items and events.

    Every state and event belongs to ``simulation.process`` @ ``simulation.version``; cases get
    no reference (``ref_key`` NULL). Everything goes in one transaction (``COPY`` on
    PostgreSQL, the driver's ``executemany`` on SQLite), so a failed cohort leaves nothing.
    ``states`` and ``events`` may be generators. Returns the number of events written.
    """
    sim, states = simulation, list(states)
    tail = (sim.process, sim.version, mode.value, sim.id)  # read once, not per row
    cases = (
        (s.case_id, None, sim.process, sim.version, sim.content_hash, mode.value, s.status.value,
         s.started_at, s.finished_at, 1, s.seq, json.dumps(s.arrivals), sim.id)
        for s in states
    )  # fmt: skip
    items = (
        (s.case_id, i.number, i.step, i.status.value, i.ready_at, i.started_at, i.done_at,
         i.actor, i.org, i.outcome, i.touch_minutes, i.escalated)
        for s in states
        for i in s.items
    )  # fmt: skip
    rows = (
        (e.case_id, e.seq, e.kind.value, e.at, e.step, e.item, e.lane, e.actor, e.org, e.outcome,
         e.touch_minutes, e.transactions, e.from_step, e.to_step, e.from_lane, e.to_lane,
         e.channel, e.detail, *tail)
        for e in events
    )  # fmt: skip

    def run() -> int:
        with write_scope(engine) as conn:
            conn.execute(_SIMULATION.insert().values(**sim.model_dump()))
            _bulk(conn, _CASE, _CASE_BULK, cases)
            _bulk(conn, _ITEM, _ITEM_BULK, items)
            return _bulk(conn, _EVENT, _EVENT_COLUMNS, rows)

    return _translate(run)


_FRAME_SCHEMA: dict[str, Any] = {
    "case_id": pl.String, "seq": pl.Int64, "kind": pl.String, "at": pl.Datetime("us"),
    "step": pl.String, "item": pl.Int64, "lane": pl.String, "actor": pl.String,
    "org": pl.String, "outcome": pl.String, "touch_minutes": pl.Float64,
    "transactions": pl.Int64, "from_step": pl.String, "to_step": pl.String,
    "from_lane": pl.String, "to_lane": pl.String, "channel": pl.String, "detail": pl.String,
    "process": pl.String, "version": pl.Int64, "mode": pl.String,
}  # fmt: skip


def event_frame(
    engine: Engine,
    *,
    process: str | None = None,
    version: int | None = None,
    mode: Mode | str | None = None,
    simulation_id: str | None = None,
) -> pl.DataFrame:
    """The event log as a polars frame, ordered by case and ``seq``.

    Columns: :data:`~models.events.EVENT_COLUMNS` then ``process``, ``version``, ``mode``;
    ``at`` is ``pl.Datetime("us")`` (naive UTC), ``kind`` the event kind's string value.
    """
    columns = [_EVENT.c[name] for name in _FRAME_SCHEMA]
    query = sa.select(*columns).order_by(_EVENT.c.case_id, _EVENT.c.seq)
    if process is not None:
        query = query.where(_EVENT.c.process == process)
    if version is not None:
        query = query.where(_EVENT.c.version == version)
    if mode is not None:
        query = query.where(_EVENT.c.mode == Mode(mode).value)
    if simulation_id is not None:
        query = query.where(_EVENT.c.simulation_id == simulation_id)
    with read_scope(engine) as conn:
        if conn.dialect.name != "sqlite":
            rows = conn.execute(query).all()
            return pl.DataFrame(rows, schema=_FRAME_SCHEMA, orient="row")
        compiled = query.compile(dialect=conn.dialect)  # straight to the driver: text times
        params = [compiled.params[name] for name in compiled.positiontup or ()]
        rows = conn.connection.driver_connection.execute(str(compiled), params).fetchall()  # type: ignore[union-attr]
    frame = pl.DataFrame(rows, schema={**_FRAME_SCHEMA, "at": pl.String}, orient="row")
    return frame.with_columns(pl.col("at").str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us"))
