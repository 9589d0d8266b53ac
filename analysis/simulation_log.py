"""How simulated cases are moved through a version and written down as event rows.

Two drivers give the simulator the same answers to "start this case", "begin this step" and
"complete this step":

* :class:`EngineDriver` calls :func:`engine.case.decide` for every command, exactly as live
  runs do, and keeps each case's :class:`~engine.case.CaseState`. It is the reference.
* :class:`FastDriver` follows the engine's compiled routing (:class:`engine.case.Flow`:
  ``routes``, ``join_inputs``, lanes) but keeps only a few counters per case and writes each
  event as one packed row of floats. ``decide`` copies the whole state on every command
  (about 36,000 commands/s measured), which cannot simulate 100,000 cases in 10 s; this
  driver does. A test runs both drivers on the same seeds and requires identical frames, so
  the routing rules still live in one place: ``engine/case.py``.

Both build the same polars frame: :data:`~models.events.EVENT_COLUMNS` then ``process``,
``version``, ``mode`` — the shape of :func:`engine.store.event_frame` — so the observed
analysis reads simulated runs unchanged. Times are working minutes until :func:`to_frame`
stamps them through the calendar.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Sequence

import numpy as np
import polars as pl

from analysis.calendar import WorkCalendar
from engine.case import BeginStep, CaseState, CompleteStep, Flow, StartCase, decide
from models.events import EVENT_COLUMNS, Event
from models.vocabulary import EventKind, Mode, RunStatus, StepKind

__all__ = ["FRAME_SCHEMA", "KINDS", "EngineDriver", "FastDriver", "Ready", "stamp", "to_frame"]

KINDS: tuple[EventKind, ...] = tuple(EventKind)
"""Event kinds by packed code."""
_CODE = {kind: code for code, kind in enumerate(KINDS)}
_STARTED, _READY, _BEGUN, _DONE, _HANDOFF, _FINISHED = (
    _CODE[EventKind.CASE_STARTED],
    _CODE[EventKind.STEP_READY],
    _CODE[EventKind.STEP_STARTED],
    _CODE[EventKind.STEP_COMPLETED],
    _CODE[EventKind.HANDOFF],
    _CODE[EventKind.CASE_FINISHED],
)
_WIDTH = 11
"""Packed row: case, seq, kind, minute, step, item, actor, org, outcome, touch, to_step."""
_EPOCH = dt.datetime(2000, 1, 3)
"""The engine driver's stand-in clock: working minute ``m`` is ``_EPOCH + m minutes``."""

FRAME_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.String(), "seq": pl.Int64(), "kind": pl.String(), "at": pl.Datetime("us"),
    "step": pl.String(), "item": pl.Int64(), "lane": pl.String(), "actor": pl.String(),
    "org": pl.String(), "outcome": pl.String(), "touch_minutes": pl.Float64(),
    "transactions": pl.Int64(), "from_step": pl.String(), "to_step": pl.String(),
    "from_lane": pl.String(), "to_lane": pl.String(), "channel": pl.String(),
    "detail": pl.String(), "process": pl.String(), "version": pl.Int64(), "mode": pl.String(),
}  # fmt: skip

Ready = tuple[int, int]
"""A work item that became ready: (item number, step index)."""


class FastDriver:
    """The engine's routing over compact per-case counters; events as packed float rows."""

    def __init__(self, flow: Flow, step_ids: Sequence[str], names: Sequence[str]) -> None:
        self.flow = flow
        self.index = {step: i for i, step in enumerate(step_ids)}
        self.names = {name: i for i, name in enumerate(names)}
        steps = [flow.steps[s] for s in step_ids]
        self.kinds = [s.kind for s in steps]
        self.lanes = [s.lane for s in steps]
        self.routes: dict[tuple[int, int], tuple[int, ...]] = {}
        for (source, outcome), targets in flow.routes.items():
            code = -1 if outcome is None else self.names[outcome]
            self.routes[(self.index[source], code)] = tuple(self.index[t] for t in targets)
        self.joins = {self.index[j]: frozenset(self.index[s] for s in srcs)
                      for j, srcs in flow.join_inputs.items()}  # fmt: skip
        self.rows = array("d")
        self.seq: list[int] = []
        self.items: list[int] = []
        self.arrivals: list[dict[int, frozenset[int]]] = []
        self.done: list[bool] = []

    def start(self, case: int, t: float, actor: int, org: int) -> list[Ready]:
        self.seq.append(0)
        self.items.append(0)
        self.arrivals.append({})
        self.done.append(False)
        self._emit(case, _STARTED, t, -1, -1, actor, org, -1, -1.0, -1)
        start = self.index[self.flow.start]
        return self._completed(case, start, -1, t, actor, org, -1.0, ready=[])

    def finished(self, case: int) -> bool:
        return self.done[case]

    def begin(self, case: int, item: int, step: int, t: float, actor: int, org: int) -> None:
        self._emit(case, _BEGUN, t, step, item, actor, org, -1, -1.0, -1)

    def complete(
        self, case: int, item: int, step: int, t: float, actor: int, org: int, outcome: int,
        touch: float,
    ) -> list[Ready]:  # fmt: skip
        self.items[case] -= 1  # _completed numbers a new item; a human step already has one
        return self._completed(case, step, outcome, t, actor, org, touch, ready=[], item=item)

    def _completed(
        self, case: int, step: int, outcome: int, t: float, actor: int, org: int, touch: float,
        *, ready: list[Ready], item: int = 0,
    ) -> list[Ready]:  # fmt: skip
        """Emit a completion (as ``decide`` applies it), then route on like ``_route``."""
        self.items[case] += 1
        self._emit(case, _DONE, t, step, item or self.items[case], actor, org, outcome, touch, -1)
        self._arrive(case, step, outcome)
        queue = [(step, outcome)]
        kinds, lanes, routes, joins = self.kinds, self.lanes, self.routes, self.joins
        while queue:
            source, chosen = queue.pop(0)
            for target in routes.get((source, chosen), ()):
                if lanes[target] != lanes[source]:
                    self._emit(case, _HANDOFF, t, source, -1, -1, -1, -1, -1.0, target)
                kind = kinds[target]
                if kind is StepKind.JOIN and self.arrivals[case].get(target) != joins[target]:
                    continue
                self.items[case] += 1
                number = self.items[case]
                if kind is StepKind.END:
                    self._emit(case, _DONE, t, target, number, -1, -2, -1, -1.0, -1)
                    self._emit(case, _FINISHED, t, target, -1, -1, -1, -1, -1.0, -1)
                    self.done[case] = True
                    return ready
                if kind in (StepKind.START, StepKind.AUTO, StepKind.PARALLEL, StepKind.JOIN):
                    self._emit(case, _DONE, t, target, number, -1, -2, -1, -1.0, -1)
                    self._arrive(case, target, -1)
                    queue.append((target, -1))
                else:
                    self._emit(case, _READY, t, target, number, -1, -1, -1, -1.0, -1)
                    ready.append((number, target))
        return ready

    def _arrive(self, case: int, step: int, outcome: int) -> None:
        """Record branches reaching joins, and clear a join that fired (``_apply_completed``)."""
        arrivals = self.arrivals[case]
        if step in self.joins:
            arrivals.pop(step, None)
        for target in self.routes.get((step, outcome), ()):
            if target in self.joins:
                arrivals[target] = arrivals.get(target, frozenset()) | {step}

    def _emit(
        self, case: int, kind: int, t: float, step: int, item: int, actor: int, org: int,
        outcome: int, touch: float, to_step: int,
    ) -> None:  # fmt: skip
        self.seq[case] += 1
        self.rows.extend((case, self.seq[case], kind, t, step, item, actor, org, outcome, touch,
                          to_step))  # fmt: skip

    def packed(self) -> np.ndarray:
        """The packed rows as an ``(events, 11)`` float array."""
        return np.frombuffer(self.rows, dtype=np.float64).reshape(-1, _WIDTH)


class EngineDriver:
    """Every command through :func:`engine.case.decide`; keeps real case states and events."""

    def __init__(self, flow: Flow, step_ids: Sequence[str], names: Sequence[str]) -> None:
        self.flow = flow
        self.step_ids = list(step_ids)
        self.index = {step: i for i, step in enumerate(step_ids)}
        self.names = list(names)
        self.case_ids: list[str] = []
        self.states: list[CaseState] = []
        self.events: list[Event] = []
        self.minutes: list[float] = []

    def start(self, case: int, t: float, actor: int, org: int) -> list[Ready]:
        command = StartCase(self.case_ids[case], self.names[actor], self.names[org])
        decision = decide(self.flow, None, command, now=_EPOCH + dt.timedelta(minutes=t))
        self.states.append(decision.state)
        return self._record(decision.events, t)

    def finished(self, case: int) -> bool:
        return self.states[case].status is not RunStatus.RUNNING

    def begin(self, case: int, item: int, step: int, t: float, actor: int, org: int) -> None:
        command = BeginStep(self.step_ids[step], self.names[actor], self.names[org])
        self._decide(case, command, t)

    def complete(
        self, case: int, item: int, step: int, t: float, actor: int, org: int, outcome: int,
        touch: float,
    ) -> list[Ready]:  # fmt: skip
        chosen = self.names[outcome] if outcome >= 0 else None
        command = CompleteStep(self.step_ids[step], self.names[actor], self.names[org], chosen,
                               touch)  # fmt: skip
        return self._decide(case, command, t)

    def _decide(self, case: int, command: BeginStep | CompleteStep, t: float) -> list[Ready]:
        now = _EPOCH + dt.timedelta(minutes=t)
        decision = decide(self.flow, self.states[case], command, now=now)
        self.states[case] = decision.state
        return self._record(decision.events, t)

    def _record(self, events: Sequence[Event], t: float) -> list[Ready]:
        self.events.extend(events)
        self.minutes.extend([t] * len(events))
        return [(e.item or 0, self.index[e.step or ""]) for e in events
                if e.kind is EventKind.STEP_READY]  # fmt: skip

    def event_rows(self) -> pl.DataFrame:
        """The recorded events (``at`` still on the stand-in clock)."""
        columns = {name: [getattr(e, name) for e in self.events] for name in EVENT_COLUMNS}
        columns["kind"] = [kind.value for kind in columns["kind"]]
        schema = {name: FRAME_SCHEMA[name] for name in EVENT_COLUMNS}
        return pl.DataFrame(columns, schema=schema)


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
    mask = [day in calendar.weekdays for day in range(7)]
    holidays = np.array(sorted(calendar.holidays), dtype="datetime64[D]")
    first = np.busday_offset(np.datetime64(origin, "D"), 0, roll="forward", weekmask=mask,
                             holidays=holidays)  # fmt: skip
    days = np.busday_offset(first, whole, roll="forward", weekmask=mask, holidays=holidays)
    opening = np.timedelta64(round(calendar.start_hour * 3_600_000_000), "us")
    offset = np.round(rest * 60_000_000).astype(np.int64).astype("timedelta64[us]")
    return days.astype("datetime64[us]") + opening + offset


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
        frame = driver.event_rows()
        minutes = np.asarray(driver.minutes, dtype=np.float64)
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
    packed: np.ndarray, case_ids: Sequence[str], step_ids: Sequence[str], names: Sequence[str],
    flow: Flow,
) -> tuple[pl.DataFrame, np.ndarray]:  # fmt: skip
    """Expand packed rows into the event columns (null where ``decide`` leaves a field unset)."""
    steps = [flow.steps[s] for s in step_ids]
    col = {name: packed[:, i] for i, name in enumerate(
        ("case", "seq", "kind", "minute", "step", "item", "actor", "org", "outcome", "touch",
         "to_step"))}  # fmt: skip
    kind = col["kind"].astype(np.int64)
    step = col["step"].astype(np.int64)
    handoff = kind == _HANDOFF

    def pick(values: Sequence[object], index: np.ndarray, where: np.ndarray) -> pl.Series:
        table = pl.Series(list(values), dtype=pl.String)
        taken = table.gather(np.clip(index, 0, max(len(values) - 1, 0)))
        return taken.zip_with(pl.Series(where), pl.Series([None] * len(where), dtype=pl.String))

    org = col["org"].astype(np.int64)
    org_names = pick(names, org, org >= 0)
    auto_org = pick([s.lane for s in steps], step, org == -2)
    extra = np.array([s.extra_transactions for s in steps], dtype=np.int64)
    has_step = (step >= 0) & ~handoff
    detail = f"{flow.version.key} {flow.content_hash[:12]}"
    frame = pl.DataFrame(
        {
            "case_id": pl.Series(list(case_ids), dtype=pl.String).gather(
                col["case"].astype(np.int64)),
            "seq": col["seq"].astype(np.int64),
            "kind": pick([k.value for k in KINDS], kind, kind >= 0),
            "at": pl.Series([None] * len(kind), dtype=pl.Datetime("us")),
            "step": pick(step_ids, step, has_step),
            "item": pl.Series(col["item"].astype(np.int64)).zip_with(
                pl.Series(col["item"] >= 0), pl.Series([None] * len(kind), dtype=pl.Int64)),
            "lane": pick([s.lane for s in steps], step, has_step),
            "actor": pick(names, col["actor"].astype(np.int64), col["actor"] >= 0),
            "org": org_names.zip_with(pl.Series(org >= 0), auto_org),
            "outcome": pick(names, col["outcome"].astype(np.int64), col["outcome"] >= 0),
            "touch_minutes": pl.Series(col["touch"]).zip_with(
                pl.Series(col["touch"] >= 0), pl.Series([None] * len(kind), dtype=pl.Float64)),
            "transactions": pl.Series(extra[np.clip(step, 0, None)]).zip_with(
                pl.Series(kind == _DONE), pl.Series([None] * len(kind), dtype=pl.Int64)),
            "from_step": pick(step_ids, step, handoff),
            "to_step": pick(step_ids, col["to_step"].astype(np.int64), handoff),
            "from_lane": pick([s.lane for s in steps], step, handoff),
            "to_lane": pick([s.lane for s in steps], col["to_step"].astype(np.int64), handoff),
            "channel": pick([s.channel or "" for s in steps], step, handoff),
            "detail": pick([detail], np.zeros(len(kind), dtype=np.int64), kind == _STARTED),
        },
        schema={name: FRAME_SCHEMA[name] for name in EVENT_COLUMNS},
    )
    frame = frame.with_columns(
        pl.when(pl.col("channel") == "").then(None).otherwise(pl.col("channel")).alias("channel")
    )
    return frame, col["minute"]
