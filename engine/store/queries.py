"""Reading the case store: case lists, inboxes, timelines, lookups by reference, and run sets.

Every function reads in one read transaction and returns plain frozen values; none of them
changes anything. Case references are matched by their keyed pseudonym only
(:mod:`boflyt.engine.store.pseudonym`). Re-exported from :mod:`boflyt.engine.store.commands`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boflyt.engine.case.decide import CaseState, Flow
from boflyt.engine.store.db import read_scope
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.engine.store.statements import (
    CASE_TABLE,
    EVENT_TABLE,
    ITEM_TABLE,
    SIMULATION_TABLE,
    load_case,
    published_flow,
    utc,
)
from boflyt.models.errors import CommandError, NotFoundError
from boflyt.models.events import EVENT_COLUMNS, Event
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.vocabulary import EventKind, ItemStatus, Mode, RunStatus

__all__ = [
    "CaseSummary",
    "InboxEntry",
    "case_flow",
    "case_timeline",
    "describe_run_set",
    "find_case_by_ref",
    "find_simulation",
    "get_case",
    "inbox",
    "list_cases",
    "list_run_sets",
    "resolve_case_id",
]


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
    orgs: tuple[str, ...] = ()
    """Which of the organisations asked about may act on it (in the order they were asked)."""
    reminded: bool = False
    """A reminder of its deadline was sent (a ``step_reminded`` event names the item)."""


def resolve_case_id(engine: Engine, prefix: str) -> str:
    """The full id of the case whose id is or starts with ``prefix`` (at least 6 characters).

    Errors never repeat ``prefix``: a user may have typed a case reference (perhaps a
    national identity number) where a case id belongs.
    """
    prefix = prefix.strip().lower()
    if len(prefix) < 6:
        raise CommandError("a case id prefix needs at least 6 characters")
    with read_scope(engine) as conn:
        query = sa.select(CASE_TABLE.c.id).where(
            CASE_TABLE.c.id.startswith(prefix, autoescape=True)
        )
        found = list(conn.execute(query.limit(3)).scalars())
    if not found:
        raise NotFoundError("no case with that id or id prefix")
    if len(found) > 1 and prefix not in found:
        raise CommandError(f"that prefix matches several cases ({', '.join(found)}); give more")
    return prefix if prefix in found else found[0]


def get_case(engine: Engine, case_id: str) -> CaseState:
    """The stored state of one case; :class:`NotFoundError` if there is none."""
    with read_scope(engine) as conn:
        return load_case(conn, case_id)[0]


def case_flow(engine: Engine, state: CaseState) -> Flow:
    """The compiled flow ``state`` is pinned to, as the store's commands decide with it (its
    published content and outside lanes; cached per version, the YAML is not read)."""
    with read_scope(engine) as conn:
        return published_flow(conn, state.process, state.version, state.content_hash)


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
    query = sa.select(CASE_TABLE).order_by(CASE_TABLE.c.started_at.desc(), CASE_TABLE.c.id)
    if process is not None:
        query = query.where(CASE_TABLE.c.process == process)
    if status is not None:
        query = query.where(CASE_TABLE.c.status == RunStatus(status).value)
    if mode is not None:
        query = query.where(CASE_TABLE.c.mode == mode.value)
    with read_scope(engine) as conn:
        return [_summary(row) for row in conn.execute(query)]


def find_case_by_ref(
    engine: Engine, *, ref: str, key: ReferenceKey, process: str | None = None
) -> list[CaseSummary]:
    """Cases started with reference ``ref`` (matched by its pseudonym), newest first."""
    query = sa.select(CASE_TABLE).where(CASE_TABLE.c.ref_key == key.pseudonym(ref))
    if process is not None:
        query = query.where(CASE_TABLE.c.process == process)
    with read_scope(engine) as conn:
        rows = conn.execute(query.order_by(CASE_TABLE.c.started_at.desc())).all()
    return [_summary(row) for row in rows]


def inbox(engine: Engine, *, orgs: Sequence[str], now: dt.datetime) -> list[InboxEntry]:
    """Ready and started work in running live cases that any of ``orgs`` may act on, each item
    once, oldest first, with the organisations of ``orgs`` that may act on it."""
    now = utc(now)
    reminded = (  # per row, through the (case_id, seq) index: a case's few events
        sa.exists()
        .where(EVENT_TABLE.c.case_id == ITEM_TABLE.c.case_id)
        .where(EVENT_TABLE.c.kind == EventKind.STEP_REMINDED.value)
        .where(EVENT_TABLE.c.item == ITEM_TABLE.c.number)
    )
    query = (
        sa.select(ITEM_TABLE, CASE_TABLE.c.process, CASE_TABLE.c.version, CASE_TABLE.c.content_hash)
        .add_columns(reminded.label("reminded"))
        .join(CASE_TABLE, CASE_TABLE.c.id == ITEM_TABLE.c.case_id)
        .where(CASE_TABLE.c.status == RunStatus.RUNNING.value, CASE_TABLE.c.mode == Mode.LIVE.value)
        .where(ITEM_TABLE.c.status.in_([ItemStatus.READY.value, ItemStatus.STARTED.value]))
        .order_by(ITEM_TABLE.c.ready_at, ITEM_TABLE.c.case_id, ITEM_TABLE.c.number)
    )
    entries = []
    flows: dict[tuple[str, int, str], Flow] = {}  # one lookup per version, not per row
    with read_scope(engine) as conn:
        for r in conn.execute(query):
            key = (r.process, r.version, r.content_hash)
            flow = flows.get(key) or flows.setdefault(key, published_flow(conn, *key))
            allowed = flow.steps[r.step].allowed
            acting = tuple(org for org in orgs if org in allowed)
            if acting:
                entries.append(
                    InboxEntry(
                        r.case_id, r.process, r.version, r.number, r.step, ItemStatus(r.status),
                        r.ready_at, r.started_at, now - r.ready_at, bool(r.escalated), acting,
                        bool(r.reminded),
                    )
                )  # fmt: skip
    return entries


def _to_event(row: Any) -> Event:
    values = {name: getattr(row, name) for name in EVENT_COLUMNS}
    values["kind"] = EventKind(values["kind"])
    return Event(**values)


def case_timeline(engine: Engine, case_id: str) -> list[Event]:
    """Every event of one case in order."""
    columns = [EVENT_TABLE.c[name] for name in EVENT_COLUMNS]
    query = sa.select(*columns).where(EVENT_TABLE.c.case_id == case_id).order_by(EVENT_TABLE.c.seq)
    with read_scope(engine) as conn:
        return [_to_event(row) for row in conn.execute(query)]


# --------------------------------------------------------------------------- run sets


def find_simulation(conn: Connection, runs: RunSet) -> Any:
    """The one ``simulation_run`` row ``simulated:<ref>`` names: by run number, id or id prefix.

    Raises:
        NotFoundError: no simulation has that number or id.
        CommandError: the prefix fits several simulations.
    """
    table = SIMULATION_TABLE
    if runs.number is not None:
        query = sa.select(table).where(table.c.number == runs.number)
    else:
        query = sa.select(table).where(table.c.id.startswith(runs.key, autoescape=True))
    found = conn.execute(query.order_by(table.c.number).limit(3)).all()
    exact = [row for row in found if row.id == runs.key]
    if not found:
        raise NotFoundError(f"no simulation {runs.shown} in the store; see boflyt runs list")
    if len(found) > 1 and not exact:
        numbers = ", ".join(f"simulated:{row.number}" for row in found)
        raise CommandError(f"{runs.shown} fits several simulations ({numbers}); give more")
    return (exact or found)[0]


def _simulation_info(row: Any) -> RunSetInfo:
    return RunSetInfo(
        RunSet(Mode.SIMULATED, row.id), row.process, row.version, row.cases, number=row.number,
        seed=row.seed, scenario=row.scenario, origin=row.origin, when=_datetime(row.created_at),
    )  # fmt: skip


def _datetime(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def _case_groups(
    conn: Connection,
    mode: Mode,
    *,
    process: str | None = None,
    version: int | None = None,
    name: str | None = None,
) -> list[RunSetInfo]:
    """Live or imported run sets as grouped from ``case_run``: one per (name, process, version)."""
    table = CASE_TABLE
    keys = (table.c.simulation_id, table.c.process, table.c.version)
    query = (
        sa.select(*keys, sa.func.count().label("cases"), sa.func.max(table.c.started_at))
        .where(table.c.mode == mode.value)
        .group_by(*keys)
        .order_by(*keys)
    )
    for column, value in ((table.c.process, process), (table.c.version, version),
                          (table.c.simulation_id, name)):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    return [
        RunSetInfo(RunSet(mode, key or ""), proc, number, cases, when=_datetime(when))
        for key, proc, number, cases, when in conn.execute(query)
    ]


def describe_run_set(engine: Engine, runs: RunSet, *, process: str, version: int) -> RunSetInfo:
    """``runs`` as stored for ``process`` @ ``version``: exact name, cases, seed, when.

    A live or imported set with no case of this version has ``cases == 0``.

    Raises:
        NotFoundError: no such simulation, or no import of that name at all.
        CommandError: the simulation is of another process version, or a prefix is ambiguous.
    """
    with read_scope(engine) as conn:
        if runs.mode is Mode.SIMULATED:
            info = _simulation_info(find_simulation(conn, runs))
            if (info.process, info.version) != (process, version):
                raise CommandError(
                    f"{info.name} is a simulation of {info.version_key}, not of "
                    f"{process}@v{version}; see boflyt runs list --process {process}"
                )
            return info
        name = runs.key if runs.mode is Mode.IMPORTED else None
        found = _case_groups(conn, runs.mode, process=process, version=version, name=name)
        known = found or runs.mode is Mode.LIVE or _case_groups(conn, runs.mode, name=name)
        if not known:
            raise NotFoundError(f"no imported run set {runs.shown}; see boflyt runs list")
    return found[0] if found else RunSetInfo(runs, process, version, 0)


def list_run_sets(
    engine: Engine, *, process: str | None = None, runs: RunSet | None = None
) -> list[RunSetInfo]:
    """Every run set in the store (or only ``runs``), one entry per process version it holds.

    Sorted by process, version, then live, imported, simulated (by run number).

    Raises:
        NotFoundError, CommandError: as :func:`find_simulation` when ``runs`` names a simulation.
    """
    found: list[RunSetInfo] = []
    with read_scope(engine) as conn:
        if runs is not None and runs.mode is Mode.SIMULATED:
            found.append(_simulation_info(find_simulation(conn, runs)))
        for mode in (Mode.LIVE, Mode.IMPORTED):
            if runs is None or runs.mode is mode:
                name = runs.key if runs is not None and mode is Mode.IMPORTED else None
                found += _case_groups(conn, mode, process=process, name=name)
        if runs is None:
            query = sa.select(SIMULATION_TABLE).order_by(SIMULATION_TABLE.c.number)
            if process is not None:
                query = query.where(SIMULATION_TABLE.c.process == process)
            found += [_simulation_info(row) for row in conn.execute(query)]
    order = {Mode.LIVE: 0, Mode.IMPORTED: 1, Mode.SIMULATED: 2}
    found = [info for info in found if process is None or info.process == process]
    return sorted(found, key=lambda i: (i.process, i.version, order[i.runs.mode], i.number or 0,
                                        i.runs.key))  # fmt: skip
