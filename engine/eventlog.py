"""The event log in bulk: simulated cohorts in, analysis frames out.

:func:`append_simulated` writes a whole simulated cohort (run row, case runs, work items and
events) in one transaction — ``COPY`` on PostgreSQL, the driver's ``executemany`` on SQLite —
bypassing the per-command path, since simulated cases need no compare-and-set.
:func:`event_frame` reads the log back as one polars frame for the analysis. Re-exported from
:mod:`boflyt.engine.store`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import islice
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boflyt.engine.case import CaseState
from boflyt.engine.db import read_scope, write_scope
from boflyt.engine.statements import (
    CASE_TABLE,
    EVENT_TABLE,
    ITEM_COLUMNS,
    ITEM_TABLE,
    LOG_COLUMNS,
    SIMULATION_TABLE,
    translate_errors,
)
from boflyt.models.events import Event
from boflyt.models.tables import SimulationRun
from boflyt.models.vocabulary import Mode

__all__ = ["append_simulated", "event_frame"]

_CASE_BULK = (
    "id", "ref_key", "process", "version", "content_hash", "mode", "status", "started_at",
    "finished_at", "row_version", "last_seq", "arrivals", "simulation_id",
)  # fmt: skip
_ITEM_BULK = ("case_id", *ITEM_COLUMNS)


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
            conn.execute(SIMULATION_TABLE.insert().values(**sim.model_dump()))
            _bulk(conn, CASE_TABLE, _CASE_BULK, cases)
            _bulk(conn, ITEM_TABLE, _ITEM_BULK, items)
            return _bulk(conn, EVENT_TABLE, LOG_COLUMNS, rows)

    return translate_errors(run)


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

    Columns: :data:`~boflyt.models.events.EVENT_COLUMNS` then ``process``, ``version``, ``mode``;
    ``at`` is ``pl.Datetime("us")`` (naive UTC), ``kind`` the event kind's string value.
    """
    columns = [EVENT_TABLE.c[name] for name in _FRAME_SCHEMA]
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
        if conn.dialect.name != "sqlite":
            rows = conn.execute(query).all()
            return pl.DataFrame(rows, schema=_FRAME_SCHEMA, orient="row")
        compiled = query.compile(dialect=conn.dialect)  # straight to the driver: text times
        params = [compiled.params[name] for name in compiled.positiontup or ()]
        rows = conn.connection.driver_connection.execute(str(compiled), params).fetchall()  # type: ignore[union-attr]
    frame = pl.DataFrame(rows, schema={**_FRAME_SCHEMA, "at": pl.String}, orient="row")
    return frame.with_columns(pl.col("at").str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us"))
