"""The simulated event log: the drivers' records as the store's frame, and back.

:func:`to_frame` builds the same polars frame as :func:`engine.store.event_frame` —
:data:`~models.events.EVENT_COLUMNS` then ``process``, ``version``, ``mode`` (``simulated``),
ordered by case and ``seq`` — so the observed analysis reads simulated runs unchanged. Times are
working minutes until :func:`stamp` maps them to calendar datetimes through the scenario's
:class:`~analysis.calendar.WorkCalendar` (vectorised; nights, weekends and holidays skipped).
:func:`log_records` turns a frame back into engine records for the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from analysis.calendar import WorkCalendar
from analysis.simulation_drivers import (
    DONE,
    HANDOFF,
    KINDS,
    STARTED,
    EngineDriver,
    FastDriver,
)
from engine.case import CaseState, Flow, replay
from models.events import EVENT_COLUMNS, Event
from models.vocabulary import EventKind, Mode

__all__ = ["FRAME_SCHEMA", "log_records", "stamp", "to_frame", "working_days"]

FRAME_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.String(),
    "seq": pl.Int64(),
    "kind": pl.String(),
    "at": pl.Datetime("us"),
    "step": pl.String(),
    "item": pl.Int64(),
    "lane": pl.String(),
    "actor": pl.String(),
    "org": pl.String(),
    "outcome": pl.String(),
    "touch_minutes": pl.Float64(),
    "transactions": pl.Int64(),
    "from_step": pl.String(),
    "to_step": pl.String(),
    "from_lane": pl.String(),
    "to_lane": pl.String(),
    "channel": pl.String(),
    "detail": pl.String(),
    "process": pl.String(),
    "version": pl.Int64(),
    "mode": pl.String(),
}


def stamp(calendar: WorkCalendar, origin: dt.date, minutes: np.ndarray) -> np.ndarray:
    """Vectorised :meth:`WorkCalendar.to_datetime` over working minutes (``datetime64[us]``).

    >>> from analysis.calendar import WorkCalendar
    >>> stamp(WorkCalendar(), dt.date(2025, 1, 4), np.array([0.0, 450.0, 451.0]))
    array(['2025-01-06T08:00:00.000000', '2025-01-06T15:30:00.000000',
           '2025-01-07T08:01:00.000000'], dtype='datetime64[us]')
    """
    per_day = calendar.minutes_per_day
    whole, rest = np.divmod(np.maximum(minutes, 0.0), per_day)
    edge = (rest == 0) & (whole > 0)
    whole = np.where(edge, whole - 1, whole).astype(np.int64)
    rest = np.where(edge, per_day, rest)
    days = working_days(calendar, origin, int(whole.max(initial=0)) + 1)[whole]
    opening = np.timedelta64(round(calendar.start_hour * 3_600_000_000), "us")
    offset = np.round(rest * 60_000_000).astype(np.int64).astype("timedelta64[us]")
    return np.asarray(days.astype("datetime64[us]") + opening + offset)


def working_days(calendar: WorkCalendar, origin: dt.date, count: int) -> np.ndarray:
    """The first ``count`` working days from ``origin`` on, as ``datetime64[D]``."""
    mask = [day in calendar.weekdays for day in range(7)]
    holidays = np.array(sorted(calendar.holidays), dtype="datetime64[D]")
    span = count * 7 // max(len(calendar.weekdays), 1) + 7 + len(holidays)
    days = np.datetime64(origin, "D") + np.arange(span)
    found = days[np.is_busday(days, weekmask=mask, holidays=holidays)]
    while len(found) < count:  # pragma: no cover - only with extreme holiday lists
        span *= 2
        days = np.datetime64(origin, "D") + np.arange(span)
        found = days[np.is_busday(days, weekmask=mask, holidays=holidays)]
    return found[:count]


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
    if isinstance(driver, EngineDriver):
        frame, minutes = _engine_rows(driver)
    else:
        frame, minutes = _unpack(driver.packed(), case_ids, step_ids, names, flow)
    version = flow.version
    return frame.with_columns(
        pl.Series("at", stamp(calendar, origin, minutes), dtype=pl.Datetime("us")),
        pl.lit(version.process, pl.String).alias("process"),
        pl.lit(version.version, pl.Int64).alias("version"),
        pl.lit(Mode.SIMULATED.value, pl.String).alias("mode"),
    ).select(list(FRAME_SCHEMA))


def _unpack(
    packed: tuple[np.ndarray, ...],
    case_ids: Sequence[str],
    step_ids: Sequence[str],
    names: Sequence[str],
    flow: Flow,
) -> tuple[pl.DataFrame, np.ndarray]:
    """Expand packed rows into the event columns (null where ``decide`` leaves a field unset)."""
    steps = [flow.steps[s] for s in step_ids]
    case, seq, kind, minute, step, item, actor, org, outcome, touch, to_step = packed
    kind, step, to_step, org = (a.astype(np.int64) for a in (kind, step, to_step, org))
    handoff = kind == HANDOFF
    on_step = np.where((step >= 0) & ~handoff, step, -1)
    on_handoff = np.where(handoff, step, -1)
    extra = np.array([s.extra_transactions for s in steps], dtype=np.int64)
    raw = pl.DataFrame(
        {
            "case_id": case.astype(np.int64),
            "seq": seq.astype(np.int64),
            "kind": kind,
            "step": on_step,
            "item": item.astype(np.int64),
            "lane": on_step,
            "actor": actor.astype(np.int64),
            "org": np.where(org == -2, -1, org),
            "auto_org": np.where(org == -2, step, -1),
            "outcome": outcome.astype(np.int64),
            "touch_minutes": touch,
            "transactions": np.where(kind == DONE, extra[step], -1),
            "from_step": on_handoff,
            "to_step": np.where(handoff, to_step, -1),
            "from_lane": on_handoff,
            "to_lane": np.where(handoff, to_step, -1),
            "channel": on_handoff,
            "detail": np.where(kind == STARTED, 0, -1),
        }
    )
    lanes = [s.lane for s in steps]
    tables = {
        "case_id": case_ids,
        "kind": [k.value for k in KINDS],
        "step": step_ids,
        "lane": lanes,
        "actor": names,
        "org": names,
        "auto_org": lanes,
        "outcome": names,
        "from_step": step_ids,
        "to_step": step_ids,
        "from_lane": lanes,
        "to_lane": lanes,
        "channel": [s.channel for s in steps],
        "detail": [f"{flow.version.key} {flow.content_hash[:12]}"],
    }
    frame = raw.with_columns(
        *(_lookup(name, values) for name, values in tables.items()),
        *(
            pl.when(pl.col(n) >= 0).then(pl.col(n)).alias(n)
            for n in ("item", "touch_minutes", "transactions")
        ),
    ).with_columns(pl.coalesce("org", "auto_org").alias("org"))
    schema = {name: FRAME_SCHEMA[name] for name in EVENT_COLUMNS if name != "at"}
    frame = frame.select(list(schema)).cast(schema)  # type: ignore[arg-type]
    return frame, minute


def _lookup(name: str, values: Sequence[str | None]) -> pl.Expr:
    """Column ``name`` of indices into ``values`` as strings (-1 = null)."""
    table = pl.Series(name, list(values), dtype=pl.String)
    index = pl.when(pl.col(name) >= 0).then(pl.col(name))
    return pl.lit(table).gather(index).alias(name)


def log_records(events: pl.DataFrame, flow: Flow) -> tuple[list[CaseState], list[Event]]:
    """The frame as engine records for the store: each case's state (rebuilt by
    :func:`engine.case.replay` from its events) and every :class:`~models.events.Event`."""
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
