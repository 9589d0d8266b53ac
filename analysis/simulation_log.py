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
from collections.abc import Sequence

import numpy as np
import polars as pl

from analysis.calendar import WorkCalendar
from engine.case import BeginStep, CaseState, CompleteStep, Flow, StartCase, decide, replay
from models.events import EVENT_COLUMNS, Event
from models.vocabulary import EventKind, Mode, RunStatus, StepKind

__all__ = [
    "FRAME_SCHEMA",
    "KINDS",
    "EngineDriver",
    "FastDriver",
    "Ready",
    "log_records",
    "stamp",
    "to_frame",
    "working_days",
]

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

Ready = tuple[int, int]
"""A work item that became ready: (item number, step index)."""


_Piece = tuple[int, int, int, int, int, int]
"""One event of a template: kind, step, to_step, item rule, item offset, who.

Item rule 0: no item; 1: the command's item; 2: the case's item count before the command plus
the offset. Who 0: nobody; 1: the command's actor and organisation; 2: the engine (the
step's lane as organisation); 3: like 1 and also the command's outcome and touch minutes.
"""


class FastDriver:
    """The engine's routing with a few counters per case; one packed row per command.

    The events a command causes are fixed by (step, outcome) unless a join is on the way, so
    they are compiled once into templates; a command is stored as one row naming its template
    and expanded into event rows with numpy at the end (:meth:`packed`). Routes through a join
    depend on which branches have arrived and are followed step by step, as ``_route`` does.
    """

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
        self.joins = {
            self.index[j]: frozenset(self.index[s] for s in srcs)
            for j, srcs in flow.join_inputs.items()
        }
        self.pieces: list[tuple[_Piece, ...]] = []
        self.template_of: dict[tuple[_Piece, ...], int] = {}
        self.compiled: dict[
            tuple[int, int], tuple[int, tuple[tuple[int, int], ...], int, bool]
        ] = {}
        self.rows: list[float] = []
        self.items: list[int] = []
        self.arrivals: list[dict[int, frozenset[int]]] = []
        self.done: list[bool] = []
        self.begun = [self._template(((_BEGUN, i, -1, 1, 0, 1),)) for i in range(len(steps))]
        start = self.index[flow.start] if flow.start else -1
        self.start_step = start
        self.opening = self._template(((_STARTED, -1, -1, 0, 0, 1), (_DONE, start, -1, 2, 1, 1)))

    def _template(self, pieces: tuple[_Piece, ...]) -> int:
        found = self.template_of.get(pieces)
        if found is None:
            found = self.template_of[pieces] = len(self.pieces)
            self.pieces.append(pieces)
        return found

    def _compile(
        self, step: int, outcome: int
    ) -> tuple[int, tuple[tuple[int, int], ...], int, bool] | None:
        """The route from a completed step as (template, ready, new items, finishes); None
        when it passes a join."""
        pieces: list[_Piece] = []
        ready: list[tuple[int, int]] = []
        items = 0
        queue = [(step, outcome)]
        while queue:
            source, chosen = queue.pop(0)
            for target in self.routes.get((source, chosen), ()):
                if self.lanes[target] != self.lanes[source]:
                    pieces.append((_HANDOFF, source, target, 0, 0, 0))
                kind = self.kinds[target]
                if kind is StepKind.JOIN:
                    return None
                items += 1
                if kind is StepKind.END:
                    pieces += [(_DONE, target, -1, 2, items, 2), (_FINISHED, target, -1, 0, 0, 0)]
                    return self._template(tuple(pieces)), tuple(ready), items, True
                if kind in (StepKind.START, StepKind.AUTO, StepKind.PARALLEL):
                    pieces.append((_DONE, target, -1, 2, items, 2))
                    queue.append((target, -1))
                else:
                    pieces.append((_READY, target, -1, 2, items, 0))
                    ready.append((items, target))
        return self._template(tuple(pieces)), tuple(ready), items, False

    def start(self, case: int, t: float, actor: int, org: int) -> list[Ready]:
        self.items.append(0)
        self.arrivals.append({})
        self.done.append(False)
        self._record(case, t, self.opening, 0, actor, org, -1, -1.0)
        self.items[case] = 1
        return self._route(case, self.start_step, -1, t)

    def finished(self, case: int) -> bool:
        return self.done[case]

    def begin(self, case: int, item: int, step: int, t: float, actor: int, org: int) -> None:
        self._record(case, t, self.begun[step], item, actor, org, -1, -1.0)

    def complete(
        self,
        case: int,
        item: int,
        step: int,
        t: float,
        actor: int,
        org: int,
        outcome: int,
        touch: float,
    ) -> list[Ready]:
        head = self._template(((_DONE, step, -1, 1, 0, 3),))
        self._record(case, t, head, item, actor, org, outcome, touch)
        return self._route(case, step, outcome, t)

    def _route(self, case: int, step: int, outcome: int, t: float) -> list[Ready]:
        """Move on from a completed step: a compiled template, or step by step past joins."""
        self._arrive(case, step, outcome)
        key = (step, outcome)
        compiled = self.compiled.get(key, 0)
        if compiled == 0:
            compiled = self.compiled[key] = self._compile(step, outcome)  # type: ignore[assignment]
        if compiled is None:
            return self._walk(case, step, outcome, t)
        template, ready, items, finishes = compiled  # type: ignore[misc]
        base = self.items[case]
        if self.pieces[template]:
            self._record(case, t, template, 0, -1, -1, -1, -1.0)
        self.items[case] = base + items
        if finishes:
            self.done[case] = True
        return [(base + offset, target) for offset, target in ready]

    def _walk(self, case: int, step: int, outcome: int, t: float) -> list[Ready]:
        """``_route`` one event at a time (routes through a join)."""
        ready: list[Ready] = []
        queue = [(step, outcome)]
        kinds, lanes, routes, joins = self.kinds, self.lanes, self.routes, self.joins
        while queue:
            source, chosen = queue.pop(0)
            for target in routes.get((source, chosen), ()):
                if lanes[target] != lanes[source]:
                    self._single(case, t, (_HANDOFF, source, target, 0, 0, 0), 0)
                kind = kinds[target]
                if kind is StepKind.JOIN and self.arrivals[case].get(target) != joins[target]:
                    continue
                self.items[case] += 1
                number = self.items[case]
                if kind is StepKind.END:
                    self._single(case, t, (_DONE, target, -1, 1, 0, 2), number)
                    self._single(case, t, (_FINISHED, target, -1, 0, 0, 0), 0)
                    self.done[case] = True
                    return ready
                if kind in (StepKind.START, StepKind.AUTO, StepKind.PARALLEL, StepKind.JOIN):
                    self._single(case, t, (_DONE, target, -1, 1, 0, 2), number)
                    self._arrive(case, target, -1)
                    queue.append((target, -1))
                else:
                    self._single(case, t, (_READY, target, -1, 1, 0, 0), number)
                    ready.append((number, target))
        return ready

    def _arrive(self, case: int, step: int, outcome: int) -> None:
        """Record branches reaching joins, and clear a join that fired (``_apply_completed``)."""
        if not self.joins:
            return
        arrivals = self.arrivals[case]
        if step in self.joins:
            arrivals.pop(step, None)
        for target in self.routes.get((step, outcome), ()):
            if target in self.joins:
                arrivals[target] = arrivals.get(target, frozenset()) | {step}

    def _single(self, case: int, t: float, piece: _Piece, item: int) -> None:
        self._record(case, t, self._template((piece,)), item, -1, -1, -1, -1.0)

    def _record(
        self,
        case: int,
        t: float,
        template: int,
        item: int,
        actor: int,
        org: int,
        outcome: int,
        touch: float,
    ) -> None:
        self.rows.extend((case, t, template, item, actor, org, outcome, touch))

    def packed(self) -> np.ndarray:
        """Every event as a row of floats: case, seq, kind, minute, step, item, actor, org,
        outcome, touch, to_step (``-1`` = none; org ``-2`` = the step's lane)."""
        rows = np.array(self.rows, dtype=np.float64).reshape(-1, 8)
        table = np.array(
            [p for pieces in self.pieces for p in pieces] or [(0,) * 6], dtype=np.int64
        ).reshape(-1, 6)
        sizes = np.array([len(p) for p in self.pieces], dtype=np.int64)
        adds = np.array([sum(1 for p in pieces if p[3] == 2) for pieces in self.pieces])
        first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        case, template = rows[:, 0].astype(np.int64), rows[:, 2].astype(np.int64)
        order = np.argsort(case, kind="stable")  # commands of a case stay in their order
        rows, case, template = rows[order], case[order], template[order]
        seq0 = _exclusive_group_cumsum(case, sizes[template])
        item0 = _exclusive_group_cumsum(case, adds[template])
        repeat = sizes[template]
        cmd = np.repeat(np.arange(len(rows)), repeat)
        within = np.arange(len(cmd)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
        piece = table[first[template[cmd]] + within]
        r = rows[cmd]
        rule, who = piece[:, 3], piece[:, 5]
        item = np.where(rule == 1, r[:, 3], np.where(rule == 2, item0[cmd] + piece[:, 4], -1))
        person = (who == 1) | (who == 3)
        return np.column_stack(
            [
                r[:, 0],
                seq0[cmd] + within + 1,
                piece[:, 0],
                r[:, 1],
                piece[:, 1],
                item,
                np.where(person, r[:, 4], -1),
                np.where(person, r[:, 5], np.where(who == 2, -2, -1)),
                np.where(who == 3, r[:, 6], -1),
                np.where(who == 3, r[:, 7], -1.0),
                piece[:, 2],
            ]
        )


def _exclusive_group_cumsum(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running total of ``values`` before each row, restarting where ``groups`` changes."""
    total = np.cumsum(values) - values
    starts = np.r_[True, groups[1:] != groups[:-1]]
    return np.asarray(total - np.maximum.accumulate(np.where(starts, total, 0)))


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
        self,
        case: int,
        item: int,
        step: int,
        t: float,
        actor: int,
        org: int,
        outcome: int,
        touch: float,
    ) -> list[Ready]:
        chosen = self.names[outcome] if outcome >= 0 else None
        command = CompleteStep(
            self.step_ids[step], self.names[actor], self.names[org], chosen, touch
        )
        return self._decide(case, command, t)

    def _decide(self, case: int, command: BeginStep | CompleteStep, t: float) -> list[Ready]:
        now = _EPOCH + dt.timedelta(minutes=t)
        decision = decide(self.flow, self.states[case], command, now=now)
        self.states[case] = decision.state
        return self._record(decision.events, t)

    def _record(self, events: Sequence[Event], t: float) -> list[Ready]:
        self.events.extend(events)
        self.minutes.extend([t] * len(events))
        return [
            (e.item or 0, self.index[e.step or ""])
            for e in events
            if e.kind is EventKind.STEP_READY
        ]

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
        frame = driver.event_rows()
        minutes = np.asarray(driver.minutes, dtype=np.float64)
    else:
        frame, minutes = _unpack(driver.packed(), case_ids, step_ids, names, flow)
    version = flow.version
    return (
        frame.with_columns(
            pl.Series("at", stamp(calendar, origin, minutes), dtype=pl.Datetime("us")),
            pl.lit(version.process, pl.String).alias("process"),
            pl.lit(version.version, pl.Int64).alias("version"),
            pl.lit(Mode.SIMULATED.value, pl.String).alias("mode"),
        )
        .select(list(FRAME_SCHEMA))
        .sort("case_id", "seq")
    )


def _unpack(
    packed: np.ndarray,
    case_ids: Sequence[str],
    step_ids: Sequence[str],
    names: Sequence[str],
    flow: Flow,
) -> tuple[pl.DataFrame, np.ndarray]:
    """Expand packed rows into the event columns (null where ``decide`` leaves a field unset)."""
    steps = [flow.steps[s] for s in step_ids]
    case, seq, kind, minute, step, item, actor, org, outcome, touch, to_step = packed.T
    kind, step, to_step, org = (a.astype(np.int64) for a in (kind, step, to_step, org))
    handoff = kind == _HANDOFF
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
            "transactions": np.where(kind == _DONE, extra[step], -1),
            "from_step": on_handoff,
            "to_step": np.where(handoff, to_step, -1),
            "from_lane": on_handoff,
            "to_lane": np.where(handoff, to_step, -1),
            "channel": on_handoff,
            "detail": np.where(kind == _STARTED, 0, -1),
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
