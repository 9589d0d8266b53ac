"""The simulated event log: the drivers' records as the store's frame, and back.

:func:`to_frame` builds the event frame of :data:`boflyt.engine.store.frame.FRAME_SCHEMA` (the
one the store's :func:`~boflyt.engine.store.eventlog.event_frame` reads back; ``mode`` is
``simulated``), ordered by case and ``seq``, so the observed analysis reads simulated runs
unchanged and :func:`~boflyt.engine.store.eventlog.append_frame` stores it as it is. Times are
working minutes until :meth:`~boflyt.engine.calendar.WorkCalendar.stamp` maps them to calendar
datetimes through the scenario's calendar (vectorised; nights, weekends and holidays skipped).
:func:`log_records` turns a frame back into engine records (each case replayed), for checks
against the case engine; storing a cohort never needs them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import polars as pl

from boflyt.analysis.simulation.drivers import (
    DONE,
    HANDOFF,
    KINDS,
    STARTED,
    EngineDriver,
    FastDriver,
)
from boflyt.engine.calendar import WorkCalendar
from boflyt.engine.case.decide import CaseState, Flow, replay
from boflyt.engine.store.frame import FRAME_SCHEMA
from boflyt.models.events import EVENT_COLUMNS, Event
from boflyt.models.vocabulary import EventKind, Mode

__all__ = ["SLICE_ROWS", "frame_slices", "log_records", "to_frame"]

SLICE_ROWS = 250_000
"""Events per slice of :func:`frame_slices`: storing a slice of 500,000 took about 300 MB."""


def to_frame(
    driver: FastDriver | EngineDriver,
    *,
    case_ids: Sequence[str],
    step_ids: Sequence[str],
    names: Sequence[str],
    flow: Flow,
    calendar: WorkCalendar,
    origin: dt.date,
) -> pl.DataFrame:
    """The simulated log as the store's frame shape, stamped through ``calendar``."""
    slices = frame_slices(
        driver, case_ids=case_ids, step_ids=step_ids, names=names, flow=flow,
        calendar=calendar, origin=origin, rows=0,
    )  # fmt: skip
    return next(slices)


def frame_slices(
    driver: FastDriver | EngineDriver,
    *,
    case_ids: Sequence[str],
    step_ids: Sequence[str],
    names: Sequence[str],
    flow: Flow,
    calendar: WorkCalendar,
    origin: dt.date,
    rows: int = SLICE_ROWS,
    categorical: bool = False,
) -> Iterator[pl.DataFrame]:
    """The simulated log as :func:`to_frame` gives it, in frames of about ``rows`` events
    (``0``: one frame), each holding whole cases: the pieces concatenated are
    :func:`to_frame`'s frame. Only one slice's columns are built at a time, so a cohort can be
    written out (or stored) in bounded memory; the reference driver gives one frame.
    ``categorical`` gives the text columns as :class:`polars.Categorical` (the same values, far
    cheaper to build and to write; cast to :data:`FRAME_SCHEMA` to compare)."""
    if isinstance(driver, FastDriver):
        yield from _unpack(
            driver,
            case_ids,
            step_ids,
            names,
            flow,
            lambda m: calendar.stamp(origin, m),
            rows,
            pl.Categorical() if categorical else pl.String(),
        )
        return
    frame, minutes = _engine_rows(driver)
    version = flow.version
    yield frame.with_columns(
        pl.Series("at", calendar.stamp(origin, minutes), dtype=pl.Datetime("us")),
        pl.lit(version.process, pl.String).alias("process"),
        pl.lit(version.version, pl.Int64).alias("version"),
        pl.lit(Mode.SIMULATED.value, pl.String).alias("mode"),
    ).select(list(FRAME_SCHEMA))


def _unpack(
    driver: FastDriver,
    case_ids: Sequence[str],
    step_ids: Sequence[str],
    names: Sequence[str],
    flow: Flow,
    stamps: Callable[[np.ndarray], np.ndarray],
    rows: int,
    text: pl.DataType,
) -> Iterator[pl.DataFrame]:
    """Expand the fast driver's command rows into the event columns (null where ``decide``
    leaves a field unset), a slice of whole cases at a time: per-row values with numpy, the
    rest gathered from one small frame with a row per template piece."""
    table = driver.piece_table()
    constant = _piece_frame(driver, table, step_ids, names, flow)
    constant = constant.with_columns(pl.col(pl.String).cast(text))
    for cases, seq, piece, cmd, minute, item, base, actor, touch in driver.packed_slices(rows):
        rule, offset, who = table[:, 3][piece], table[:, 4][piece], table[:, 5][piece]
        person = (who == 1) | (who == 3)
        low, high = (int(cases[0]), int(cases[-1]) + 1) if len(cases) else (0, 0)
        columns = {
            "case_id": _strings(case_ids[low:high], cases - low, text),
            "seq": pl.Series(seq),
            "at": pl.Series(stamps(minute)[cmd], dtype=pl.Datetime("us")),
            "item": _nullable(
                np.where(rule == 1, item[cmd], np.where(rule == 2, base[cmd] + offset, -1)),
                pl.Int64(),
            ),
            "actor": _strings(names, np.where(person, actor[cmd], -1), text),
            "touch_minutes": _nullable(np.where(who == 3, touch[cmd], -1.0), pl.Float64()),
        }
        del cases, seq, cmd, minute, item, base, actor, touch, rule, offset, who, person
        gathered = constant.select(pl.all().gather(pl.Series(piece)))
        del piece
        yield pl.DataFrame(columns).hstack(gathered).select(list(FRAME_SCHEMA))
        del columns, gathered


def _piece_frame(
    driver: FastDriver,
    table: np.ndarray,
    step_ids: Sequence[str],
    names: Sequence[str],
    flow: Flow,
) -> pl.DataFrame:
    """The columns fixed by each template piece, one row per piece (few hundred rows)."""
    steps = [flow.steps[s] for s in step_ids]
    version = flow.version
    start_org = driver.orgs[driver.start_step] if driver.start_step >= 0 else 0
    rows = []
    for kind, step, to_step, _, _, who, outcome in table.tolist():
        on = steps[step] if step >= 0 else None
        handoff = kind == HANDOFF
        org = None
        if who in (1, 3):
            org = names[driver.orgs[step] if step >= 0 else start_org]
        elif who == 2 and on is not None:
            org = on.lane
        rows.append(
            {
                "kind": KINDS[kind].value,
                "step": on.id if on and not handoff else None,
                "lane": on.lane if on and not handoff else None,
                "org": org,
                "outcome": names[outcome] if who == 3 and outcome >= 0 else None,
                "transactions": on.extra_transactions if on and kind == DONE else None,
                "from_step": on.id if on and handoff else None,
                "to_step": steps[to_step].id if handoff else None,
                "from_lane": on.lane if on and handoff else None,
                "to_lane": steps[to_step].lane if handoff else None,
                "channel": on.channel if on and handoff else None,
                "detail": f"{version.key} {flow.content_hash[:12]}" if kind == STARTED else None,
                "process": version.process,
                "version": version.version,
                "mode": Mode.SIMULATED.value,
            }
        )
    schema = {name: FRAME_SCHEMA[name] for name in rows[0]}
    return pl.DataFrame(rows, schema=schema)


def _strings(values: Sequence[str], index: np.ndarray, text: pl.DataType) -> pl.Series:
    """``values[index]`` as a ``text`` column (index ``-1`` = null)."""
    table = pl.Series([*values, None], dtype=pl.String).cast(text)
    return table.gather(np.where(index < 0, len(values), index))


def _nullable(values: np.ndarray, dtype: pl.DataType) -> pl.Series:
    """A column from ``values`` with ``-1`` as null."""
    column = pl.Series("value", values).cast(dtype)
    return column.to_frame().select(pl.when(column != -1).then(column)).to_series()


def log_records(events: pl.DataFrame, flow: Flow) -> tuple[list[CaseState], list[Event]]:
    """The frame as engine records for the store: each case's state (rebuilt by
    :func:`boflyt.engine.case.decide.replay` from its events) and every
    :class:`~boflyt.models.events.Event`."""
    states: list[CaseState] = []
    records: list[Event] = []
    case: list[Event] = []
    for row in events.select(EVENT_COLUMNS).iter_rows():
        event = Event(row[0], row[1], EventKind(row[2]), *row[3:])
        if case and event.case_id != case[0].case_id:
            states.append(replay(flow, case))
            case = []
        case.append(event)
        records.append(event)
    if case:
        states.append(replay(flow, case))
    return states, records


def _engine_rows(driver: EngineDriver) -> tuple[pl.DataFrame, np.ndarray]:
    """The reference driver's events by case and ``seq``, and their working minutes."""
    number = {case_id: i for i, case_id in enumerate(driver.case_ids)}
    order = sorted(
        range(len(driver.events)),
        key=lambda i: (number[driver.events[i].case_id], driver.events[i].seq),
    )
    events = [driver.events[i] for i in order]
    minutes = np.asarray([driver.minutes[i] for i in order], dtype=np.float64)
    columns = {name: [getattr(e, name) for e in events] for name in EVENT_COLUMNS}
    columns["kind"] = [kind.value for kind in columns["kind"]]
    schema = {name: FRAME_SCHEMA[name] for name in EVENT_COLUMNS}
    return pl.DataFrame(columns, schema=schema), minutes
