"""Two drivers that move simulated cases through a version with the case engine's rules.

Both answer the simulator's "start this case", "begin this step" and "complete this step":

* :class:`EngineDriver` calls :func:`engine.case.decide` for every command, exactly as live
  runs do, and keeps each case's :class:`~engine.case.CaseState`. It is the reference.
* :class:`FastDriver` follows the engine's compiled routing (:class:`engine.case.Flow`:
  ``routes``, ``join_inputs``, lanes) with a few counters per case and stores one packed row
  per command. ``decide`` copies the case state on every command (measured in
  ``bench/simulate.py``), too slow for 100,000 cases; a test runs both drivers on the same
  seeds and requires identical event frames, so the routing rules live in ``engine/case.py``.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Sequence

import numpy as np

from engine.case import BeginStep, CaseState, CompleteStep, Flow, StartCase, decide
from models.events import Event
from models.vocabulary import EventKind, RunStatus, StepKind

__all__ = [
    "BEGUN",
    "DONE",
    "EPOCH",
    "FINISHED",
    "HANDOFF",
    "KINDS",
    "READY",
    "STARTED",
    "EngineDriver",
    "FastDriver",
    "Ready",
]

KINDS: tuple[EventKind, ...] = tuple(EventKind)
"""Event kinds by packed code."""
_CODE = {kind: code for code, kind in enumerate(KINDS)}
STARTED, READY, BEGUN, DONE, HANDOFF, FINISHED = (
    _CODE[EventKind.CASE_STARTED],
    _CODE[EventKind.STEP_READY],
    _CODE[EventKind.STEP_STARTED],
    _CODE[EventKind.STEP_COMPLETED],
    _CODE[EventKind.HANDOFF],
    _CODE[EventKind.CASE_FINISHED],
)
EPOCH = dt.datetime(2000, 1, 3)
"""The engine driver's stand-in clock: working minute ``m`` is ``EPOCH + m minutes``."""

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
        self.rows = bytearray()
        self._pack = struct.Struct("<8d").pack
        self.items: list[int] = []
        self.arrivals: list[dict[int, frozenset[int]]] = []
        self.done: list[bool] = []
        self.begun = [self._template(((BEGUN, i, -1, 1, 0, 1),)) for i in range(len(steps))]
        self.heads = [self._template(((DONE, i, -1, 1, 0, 3),)) for i in range(len(steps))]
        start = self.index[flow.start] if flow.start else -1
        self.start_step = start
        self.opening = self._template(((STARTED, -1, -1, 0, 0, 1), (DONE, start, -1, 2, 1, 1)))

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
                    pieces.append((HANDOFF, source, target, 0, 0, 0))
                kind = self.kinds[target]
                if kind is StepKind.JOIN:
                    return None
                items += 1
                if kind is StepKind.END:
                    pieces += [(DONE, target, -1, 2, items, 2), (FINISHED, target, -1, 0, 0, 0)]
                    return self._template(tuple(pieces)), tuple(ready), items, True
                if kind in (StepKind.START, StepKind.AUTO, StepKind.PARALLEL):
                    pieces.append((DONE, target, -1, 2, items, 2))
                    queue.append((target, -1))
                else:
                    pieces.append((READY, target, -1, 2, items, 0))
                    ready.append((items, target))
        return self._template(tuple(pieces)), tuple(ready), items, False

    def start(self, case: int, t: float, actor: int, org: int) -> list[Ready]:
        self.items.append(0)
        self.arrivals.append({})
        self.done.append(False)
        self._record(case, t, self.opening, 0, actor, org, -1, -1.0)
        self.items[case] = 1
        return self._route(case, self.start_step, -1, t)

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
        self._record(case, t, self.heads[step], item, actor, org, outcome, touch)
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
                    self._single(case, t, (HANDOFF, source, target, 0, 0, 0), 0)
                kind = kinds[target]
                if kind is StepKind.JOIN and self.arrivals[case].get(target) != joins[target]:
                    continue
                self.items[case] += 1
                number = self.items[case]
                if kind is StepKind.END:
                    self._single(case, t, (DONE, target, -1, 1, 0, 2), number)
                    self._single(case, t, (FINISHED, target, -1, 0, 0, 0), 0)
                    self.done[case] = True
                    return ready
                if kind in (StepKind.START, StepKind.AUTO, StepKind.PARALLEL, StepKind.JOIN):
                    self._single(case, t, (DONE, target, -1, 1, 0, 2), number)
                    self._arrive(case, target, -1)
                    queue.append((target, -1))
                else:
                    self._single(case, t, (READY, target, -1, 1, 0, 0), number)
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
        self.rows += self._pack(case, t, template, item, actor, org, outcome, touch)

    def packed(self) -> tuple[np.ndarray, ...]:
        """Every event, ordered by case and ``seq``, as columns: case, seq, kind, minute, step,
        item, actor, org, outcome, touch, to_step (``-1`` = none; org ``-2`` = the step's lane).
        """
        rows = np.frombuffer(self.rows, dtype=np.float64).reshape(-1, 8)
        table = np.array(
            [p for pieces in self.pieces for p in pieces] or [(0,) * 6], dtype=np.int64
        ).reshape(-1, 6)
        sizes = np.array([len(p) for p in self.pieces], dtype=np.int64)
        adds = np.array([sum(1 for p in pieces if p[3] == 2) for pieces in self.pieces])
        first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        case = rows[:, 0].astype(np.int64)
        order = np.argsort(case, kind="stable")  # commands of a case stay in their order
        rows, case = rows[order], case[order]
        template = rows[:, 2].astype(np.int64)
        seq0 = _exclusive_group_cumsum(case, sizes[template])
        item0 = _exclusive_group_cumsum(case, adds[template])
        repeat = sizes[template]
        cmd = np.repeat(np.arange(len(rows)), repeat)
        within = np.arange(len(cmd)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
        piece = table[first[template[cmd]] + within]
        del template, repeat

        def column(index: int) -> np.ndarray:
            return np.asarray(rows[:, index][cmd])

        rule, who = piece[:, 3], piece[:, 5]
        item = np.where(rule == 1, column(3), np.where(rule == 2, item0[cmd] + piece[:, 4], -1))
        person = (who == 1) | (who == 3)
        org = np.where(person, column(5), np.where(who == 2, -2, -1))
        return (
            case[cmd],
            seq0[cmd] + within + 1,
            piece[:, 0],
            column(1),
            piece[:, 1],
            item,
            np.where(person, column(4), -1),
            org,
            np.where(who == 3, column(6), -1),
            np.where(who == 3, column(7), -1.0),
            piece[:, 2],
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
        self.done: list[bool] = []

    def start(self, case: int, t: float, actor: int, org: int) -> list[Ready]:
        command = StartCase(self.case_ids[case], self.names[actor], self.names[org])
        decision = decide(self.flow, None, command, now=EPOCH + dt.timedelta(minutes=t))
        self.states.append(decision.state)
        self.done.append(decision.state.status is not RunStatus.RUNNING)
        return self._record(decision.events, t)

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
        now = EPOCH + dt.timedelta(minutes=t)
        decision = decide(self.flow, self.states[case], command, now=now)
        self.states[case] = decision.state
        self.done[case] = decision.state.status is not RunStatus.RUNNING
        return self._record(decision.events, t)

    def _record(self, events: Sequence[Event], t: float) -> list[Ready]:
        self.events.extend(events)
        self.minutes.extend([t] * len(events))
        return [
            (e.item or 0, self.index[e.step or ""])
            for e in events
            if e.kind is EventKind.STEP_READY
        ]
