"""The event log in bulk: simulated cohorts in, run sets out, analysis frames read.

:func:`append_frame` writes a whole simulated cohort given as its event frame (run row, case
runs, work items and events) in one transaction — ``COPY`` on PostgreSQL, the driver's
``executemany`` on SQLite — bypassing the per-command path, since simulated cases need no
compare-and-set; the case and work-item rows are derived from the frame column-wise
(:mod:`boflyt.engine.store.frame`). It gives the simulation its run number and can replace the
earlier cohorts of the same origin (the demo's). :func:`append_simulated` does the same for
states and events already built as engine records.
:func:`delete_run_sets` removes simulated and imported run sets (never live cases).
:func:`event_frame` reads the log back as one polars frame for the analysis, of one run set when
asked: :func:`run_set_where` is the one place a run set becomes a filter. Re-exported from
:mod:`boflyt.engine.store.commands` (all but the run-set functions, which are imported from here).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import islice
from os import PathLike
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine

from boflyt.engine.case.decide import CaseState, Flow
from boflyt.engine.store.db import read_scope, write_scope
from boflyt.engine.store.frame import FRAME_SCHEMA, case_frame, item_frame
from boflyt.engine.store.queries import describe_run_set, find_simulation
from boflyt.engine.store.statements import (
    CASE_TABLE,
    EVENT_TABLE,
    ITEM_COLUMNS,
    ITEM_TABLE,
    LOG_COLUMNS,
    SIMULATION_TABLE,
    sqlite_text,
    translate_errors,
)
from boflyt.models.errors import CommandError, NotFoundError
from boflyt.models.events import Event
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.tables import ImportedLog, SimulationRun, StoreMeta
from boflyt.models.vocabulary import Mode

__all__ = [
    "COUNTER",
    "DeletedRuns",
    "append_case_files",
    "append_files",
    "append_frame",
    "append_simulated",
    "delete_run_sets",
    "discard_unpublished",
    "event_frame",
    "run_set_log",
    "run_set_where",
]

COUNTER = "last_simulation_number"
"""The ``store_meta`` row holding the last run number given, so numbers are never reused."""
_META = StoreMeta.__table__  # type: ignore[attr-defined]
_IMPORTS = ImportedLog.__table__  # type: ignore[attr-defined]

_CASE_BULK = (
    "id", "ref_key", "process", "version", "content_hash", "mode", "status", "started_at",
    "finished_at", "row_version", "last_seq", "arrivals", "simulation_id",
)  # fmt: skip
_ITEM_BULK = ("case_id", *ITEM_COLUMNS)
_CHUNK = 20_000
"""Rows per driver call (SQLite) or COPY slice (PostgreSQL)."""

Rows = pl.DataFrame | Iterable[tuple[Any, ...]]
"""Rows to insert: a frame with the table's columns, or tuples in the columns' order."""


def _bulk(conn: Connection, table: sa.Table, columns: tuple[str, ...], rows: Rows) -> int:
    """Insert rows fast inside the caller's transaction; return how many were written.

    PostgreSQL: ``COPY`` (a frame as CSV, slice by slice). SQLite: the driver's
    ``executemany`` with the insert statement compiled once (datetimes as SQLAlchemy's text).
    Other databases: SQLAlchemy's ``executemany``.
    """
    if isinstance(rows, pl.DataFrame):
        return _bulk_frame(conn, table, columns, rows.select(columns))
    written = 0
    iterator = iter(rows)
    while chunk := list(islice(iterator, _CHUNK)):
        if conn.dialect.name == "postgresql":
            _copy(conn, table, columns, lambda copy: [copy.write_row(row) for row in chunk])
        else:
            times = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, sa.DateTime)]
            _insert(conn, table, columns, [_as_text(row, times) for row in chunk])
        written += len(chunk)
    return written


def _bulk_frame(
    conn: Connection, table: sa.Table, columns: tuple[str, ...], frame: pl.DataFrame
) -> int:
    """A frame in slices: CSV into ``COPY`` on PostgreSQL (no Python per row), else rows."""
    if conn.dialect.name != "postgresql":
        text = [
            pl.col(c).dt.strftime(_SQLITE_TIME)
            for c in columns
            if isinstance(table.c[c].type, sa.DateTime)
        ]
        frame = frame.with_columns(text)
    for part in frame.iter_slices(_CHUNK):
        if conn.dialect.name == "postgresql":
            csv = part.write_csv(include_header=False).encode()
            _copy(conn, table, columns, lambda copy: copy.write(csv), "WITH (FORMAT csv)")  # noqa: B023
        else:
            _insert(conn, table, columns, part.iter_rows())
    return frame.height


_SQLITE_TIME = "%Y-%m-%d %H:%M:%S%.6f"
"""SQLAlchemy's SQLite DATETIME text (:func:`~boflyt.engine.store.statements.sqlite_text`)."""


def _copy(
    conn: Connection,
    table: sa.Table,
    columns: tuple[str, ...],
    write: Callable[[Any], object],
    options: str = "",
) -> None:
    sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN {options}"
    driver = conn.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        write(copy)


def _insert(
    conn: Connection, table: sa.Table, columns: tuple[str, ...], rows: Iterable[Sequence[Any]]
) -> None:
    if conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        driver.executemany(_insert_sql(table, columns), rows)  # type: ignore[union-attr]
    else:
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])


@functools.cache
def _insert_sql(table: sa.Table, columns: tuple[str, ...]) -> str:
    """The table's insert statement compiled once for SQLite (positional parameters)."""
    statement = table.insert().compile(dialect=sqlite.dialect(), column_keys=list(columns))
    return str(statement)


def _as_text(row: tuple[Any, ...], times: list[int]) -> list[Any]:
    values = list(row)
    for t in times:
        values[t] = sqlite_text(values[t])
    return values


def append_frame(
    engine: Engine,
    *,
    simulation: SimulationRun,
    events: pl.DataFrame,
    flow: Flow,
    mode: Mode = Mode.SIMULATED,
    replace: bool = False,
) -> int:
    """Bulk-insert a simulated cohort given as an event frame (:data:`FRAME_SCHEMA`).

    The frame's events are written as they are; each case's ``case_run`` row and its work
    items are derived from them column-wise (:mod:`boflyt.engine.store.frame`), exactly what
    replaying every case would give, without a Python loop over events or cases. Otherwise as
    :func:`append_simulated`. Returns the number of events written.
    """
    return _store(engine, simulation, mode, replace, _frame_rows(simulation, events, flow, mode))


def append_files(
    engine: Engine,
    *,
    simulation: SimulationRun,
    paths: Sequence[str | PathLike[str]],
    flow: Flow,
    replace: bool = False,
) -> int:
    """Bulk-insert a simulated cohort from Parquet files of its event frame, one transaction.

    Each file holds whole cases in :data:`FRAME_SCHEMA`'s columns (as
    :func:`boflyt.analysis.simulation.log.frame_slices` cuts them; categorical text is read as
    text); the files are read and stored one at a time (``COPY`` on PostgreSQL), so memory is
    bounded by the largest file, not the cohort. Otherwise as :func:`append_frame`; returns the
    number of events written. A missing or unreadable file fails the whole cohort.
    """
    parts = _file_rows(simulation, paths, flow)
    return _store_parts(engine, simulation, Mode.SIMULATED, replace, parts)


def append_case_files(
    engine: Engine, *, simulation: SimulationRun, paths: Sequence[str | PathLike[str]], flow: Flow
) -> int:
    """Bulk-insert part of a simulated cohort — the cases, work items and events of Parquet
    files as :func:`append_files` reads them — in a transaction of its own, without the run row.

    What makes a cohort visible is its ``simulation_run`` row (every run-set query starts from
    it), written last by :func:`append_files` (``paths`` then being the files not stored yet,
    or none): so several processes can each store their own part in parallel, and a run that
    fails before the run row is written leaves rows no run set shows, removed by
    :func:`discard_unpublished`. Returns the number of events written.
    """
    parts = _file_rows(simulation, paths, flow)
    return translate_errors(partial(_write_parts, engine, parts))


def discard_unpublished(engine: Engine, simulation_id: str) -> DeletedRuns:
    """Delete the rows :func:`append_case_files` stored for ``simulation_id``, unless its run
    row was written (a published cohort is deleted by :func:`delete_run_sets` only)."""

    def run() -> DeletedRuns:
        with write_scope(engine) as conn:
            published = sa.select(SIMULATION_TABLE.c.id).where(
                SIMULATION_TABLE.c.id == simulation_id
            )
            if conn.execute(published).first() is not None:
                return DeletedRuns(0, 0, 0)
            cases, events = _delete(conn, Mode.SIMULATED, simulation_id)
        return DeletedRuns(1 if cases or events else 0, cases, events)

    return translate_errors(run)


def _file_rows(
    simulation: SimulationRun, paths: Sequence[str | PathLike[str]], flow: Flow
) -> Iterator[tuple[Rows, Rows, Rows]]:
    """Each file's case, work-item and event rows, a file read only when it is reached."""
    columns = list(FRAME_SCHEMA)
    for path in paths:
        frame = pl.read_parquet(path, columns=columns).cast(FRAME_SCHEMA)  # type: ignore[arg-type]
        yield _frame_rows(simulation, frame, flow, Mode.SIMULATED)


def _frame_rows(
    sim: SimulationRun, events: pl.DataFrame, flow: Flow, mode: Mode
) -> tuple[Rows, Rows, Rows]:
    """The case, work-item and event rows of an event frame (whole cases)."""
    cases = case_frame(events, flow).rename({"case_id": "id"}).with_columns(
        pl.lit(None, pl.String).alias("ref_key"), pl.lit(sim.process).alias("process"),
        pl.lit(sim.version).alias("version"), pl.lit(sim.content_hash).alias("content_hash"),
        pl.lit(mode.value).alias("mode"), pl.lit(1).alias("row_version"),
        pl.lit(sim.id).alias("simulation_id"),
    )  # fmt: skip
    log = events.with_columns(pl.lit(sim.id, pl.String).alias("simulation_id"))
    return cases, item_frame(events), log


def append_simulated(
    engine: Engine,
    *,
    simulation: SimulationRun,
    states: Iterable[CaseState],
    events: Iterable[Event],
    mode: Mode = Mode.SIMULATED,
    replace: bool = False,
) -> int:
    """Bulk-insert a simulated cohort: its run row, case runs, work items and events.

    Every state and event belongs to ``simulation.process`` @ ``simulation.version``; cases get
    no reference (``ref_key`` NULL). The run gets the next run number (``simulation.number`` is
    ignored; numbers are never reused). With ``replace`` the earlier simulations of the same
    process, version and ``origin`` are deleted first, so the store keeps one (the demo's way).
    With ``mode=Mode.IMPORTED`` the cohort is the run set ``imported:<simulation.id>`` and no
    simulation row is written.
    Everything goes in one transaction (``COPY`` on PostgreSQL, the driver's ``executemany`` on
    SQLite), so a failed cohort leaves nothing. ``states`` and ``events`` may be generators.
    Returns the number of events written.
    """
    sim, states = simulation, list(states)
    tail = (sim.process, sim.version, mode.value, sim.id)  # read once, not per row
    cases = (
        (s.case_id, None, sim.process, sim.version, sim.content_hash, mode.value, s.status.value,
         s.started_at, s.finished_at, 1, s.seq, json.dumps(s.arrivals), sim.id)
        for s in states
    )  # fmt: skip
    items = ((s.case_id, *i[:2], i.status.value, *i[3:]) for s in states for i in s.items)
    rows = ((*e[:2], e.kind.value, *e[3:], *tail) for e in events)
    return _store(engine, sim, mode, replace, (cases, items, rows))


def _store(
    engine: Engine, sim: SimulationRun, mode: Mode, replace: bool, rows: tuple[Rows, Rows, Rows]
) -> int:
    """Write the run row (numbered; earlier ones replaced), then the case, item and event rows,
    in one transaction."""
    return _store_parts(engine, sim, mode, replace, [rows])


def _store_parts(
    engine: Engine,
    sim: SimulationRun,
    mode: Mode,
    replace: bool,
    parts: Iterable[tuple[Rows, Rows, Rows]],
) -> int:
    """:func:`_store` for rows that come in parts (each part's case, item and event rows made
    only when it is reached), all in the one transaction."""

    def run() -> int:
        with write_scope(engine) as conn:
            if mode is Mode.SIMULATED:
                row = {**sim.model_dump(), "number": _counted(conn, 1)}
                if replace:
                    _delete_earlier(conn, sim)
                conn.execute(SIMULATION_TABLE.insert().values(**row))
            return _bulk_parts(conn, parts)

    return translate_errors(run)


def _write_parts(engine: Engine, parts: Iterable[tuple[Rows, Rows, Rows]]) -> int:
    with write_scope(engine) as conn:
        return _bulk_parts(conn, parts)


def _bulk_parts(conn: Connection, parts: Iterable[tuple[Rows, Rows, Rows]]) -> int:
    """Each part's case, work-item and event rows (events counted), in the caller's
    transaction."""
    written = 0
    for cases, items, events in parts:
        _bulk(conn, CASE_TABLE, _CASE_BULK, cases)
        _bulk(conn, ITEM_TABLE, _ITEM_BULK, items)
        written += _bulk(conn, EVENT_TABLE, LOG_COLUMNS, events)
    return written


def _counted(conn: Connection, more: int) -> int:
    """Raise the last run number given (kept in ``store_meta``, and never below any stored) by
    ``more`` and return it: ``1`` gives the next number; ``0``, before deleting simulations,
    makes sure their numbers stay given."""
    counter = _META.c.name == COUNTER
    last = conn.execute(sa.select(_META.c.value).where(counter).with_for_update()).scalar()
    top = conn.execute(sa.select(sa.func.max(SIMULATION_TABLE.c.number))).scalar()
    number = max(int(last or 0), top or 0) + more
    if last is None:
        conn.execute(_META.insert().values(name=COUNTER, value=str(number)))
    elif number != int(last):
        conn.execute(_META.update().where(counter).values(value=str(number)))
    return number


def _delete_earlier(conn: Connection, sim: SimulationRun) -> None:
    """Delete the simulations of ``sim``'s process, version and origin (before storing it)."""
    table = SIMULATION_TABLE
    query = sa.select(table.c.id).where(
        table.c.process == sim.process, table.c.version == sim.version,
        table.c.origin == sim.origin,
    )  # fmt: skip
    for simulation_id in conn.execute(query).scalars().all():
        _delete(conn, Mode.SIMULATED, simulation_id)


@dataclass(frozen=True, slots=True)
class DeletedRuns:
    """What :func:`delete_run_sets` removed."""

    sets: int
    cases: int
    events: int


def _exact(conn: Connection, runs: RunSet) -> tuple[Mode, str | None]:
    """(mode, key of the rows): a simulation by its full id, an import by its name."""
    if runs.mode is not Mode.LIVE and not runs.key:
        raise CommandError(f"{runs.mode.value}: name the run set ({runs.mode.value}:…)")
    if runs.mode is Mode.SIMULATED:
        return runs.mode, str(find_simulation(conn, runs).id)
    return runs.mode, runs.key or None


def _where(table: sa.Table, mode: Mode, key: str | None) -> sa.ColumnElement[bool]:
    clause = table.c.mode == mode.value
    return clause if key is None else sa.and_(clause, table.c.simulation_id == key)


def run_set_where(conn: Connection, table: sa.Table, runs: RunSet) -> sa.ColumnElement[bool]:
    """The rows of ``table`` (``event`` or ``case_run``) that belong to ``runs``.

    The one place a run set becomes a filter: live is mode ``live``; an import is mode
    ``imported`` and its name in ``simulation_id``; a simulation is mode ``simulated`` and its
    full id (a run number or id prefix is resolved on ``conn`` first).

    Raises:
        NotFoundError, CommandError: a simulation reference that names none, or several.
    """
    return _where(table, *_exact(conn, runs))


def _delete(conn: Connection, mode: Mode, key: str | None) -> tuple[int, int]:
    """Delete one non-live run set's events, work items, case runs (and simulation or import
    row)."""
    cases = sa.select(CASE_TABLE.c.id).where(_where(CASE_TABLE, mode, key))
    events = conn.execute(EVENT_TABLE.delete().where(_where(EVENT_TABLE, mode, key))).rowcount
    conn.execute(ITEM_TABLE.delete().where(ITEM_TABLE.c.case_id.in_(cases)))
    removed = conn.execute(CASE_TABLE.delete().where(_where(CASE_TABLE, mode, key))).rowcount
    if mode is Mode.SIMULATED:
        conn.execute(SIMULATION_TABLE.delete().where(SIMULATION_TABLE.c.id == key))
    if mode is Mode.IMPORTED:
        conn.execute(_IMPORTS.delete().where(_IMPORTS.c.name == key))
    return removed, events


def delete_run_sets(engine: Engine, sets: Sequence[RunSet]) -> DeletedRuns:
    """Delete simulated and imported run sets with every case, work item and event of them.

    All in one transaction: either every set goes or none. Live cases are never deleted here.

    Raises:
        CommandError: a set is ``live``, or a simulation reference is ambiguous.
        NotFoundError: a simulation or import that is not in the store.
    """
    if any(runs.mode is Mode.LIVE for runs in sets):
        raise CommandError("live cases are never deleted as a run set; only simulated:N and "
                           "imported:NAME can be deleted")  # fmt: skip

    def run() -> DeletedRuns:
        cases = events = 0
        with write_scope(engine) as conn:
            exact = {_exact(conn, runs) for runs in sets}
            _counted(conn, 0)
            for mode, key in sorted(exact, key=str):
                removed, logged = _delete(conn, mode, key)
                if mode is Mode.IMPORTED and not removed:
                    raise NotFoundError(f"no imported run set {RunSet(mode, key or '').shown}")
                cases, events = cases + removed, events + logged
        return DeletedRuns(len(exact), cases, events)

    return translate_errors(run)


def event_frame(
    engine: Engine,
    *,
    process: str | None = None,
    version: int | None = None,
    mode: Mode | str | None = None,
    simulation_id: str | None = None,
    runs: RunSet | None = None,
) -> pl.DataFrame:
    """The event log as a polars frame, ordered by case and ``seq``.

    ``runs`` keeps one run set (:func:`run_set_where`); analysis always reads one, never the
    whole log. Columns: :data:`~boflyt.models.events.EVENT_COLUMNS` then ``process``,
    ``version``, ``mode``; ``at`` is ``pl.Datetime("us")`` (naive UTC), ``kind`` the event
    kind's string value.

    Raises:
        NotFoundError, CommandError: ``runs`` names no simulation, or several.
    """
    columns = [EVENT_TABLE.c[name] for name in FRAME_SCHEMA]
    query = sa.select(*columns).order_by(EVENT_TABLE.c.case_id, EVENT_TABLE.c.seq)
    if process is not None:
        query = query.where(EVENT_TABLE.c.process == process)
    if version is not None:
        query = query.where(EVENT_TABLE.c.version == version)
    if mode is not None:
        query = query.where(EVENT_TABLE.c.mode == Mode(mode).value)
    if simulation_id is not None:
        query = query.where(EVENT_TABLE.c.simulation_id == simulation_id)
    with read_scope(engine) as conn:
        if runs is not None:
            query = query.where(run_set_where(conn, EVENT_TABLE, runs))
        if conn.dialect.name != "sqlite":
            rows = conn.execute(query).all()
            return pl.DataFrame(rows, schema=FRAME_SCHEMA, orient="row")
        compiled = query.compile(dialect=conn.dialect)  # straight to the driver: text times
        params = [compiled.params[name] for name in compiled.positiontup or ()]
        rows = conn.connection.driver_connection.execute(str(compiled), params).fetchall()  # type: ignore[union-attr]
    frame = pl.DataFrame(rows, schema={**FRAME_SCHEMA, "at": pl.String}, orient="row")
    return frame.with_columns(pl.col("at").str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us"))


def run_set_log(
    engine: Engine, runs: RunSet, *, process: str, version: int
) -> tuple[RunSetInfo, pl.DataFrame]:
    """One run set of ``process`` @ ``version``: its description and its event log (empty when
    the set holds no case of that version).

    Raises:
        NotFoundError, CommandError: as :func:`~boflyt.engine.store.queries.describe_run_set`.
    """
    info = describe_run_set(engine, runs, process=process, version=version)
    frame = event_frame(engine, runs=info.runs, process=process, version=version)
    return info, frame
