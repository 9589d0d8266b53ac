"""Two drivers that move simulated cases through a version with the case engine's rules.

Both answer the simulator's "start this case", "begin this step" and "complete this step":

* :class:`EngineDriver` calls :func:`boflyt.engine.case.decide.decide` for every command,
  exactly as live runs do, and keeps each case's :class:`~boflyt.engine.case.state.CaseState`.
  It is the reference.
* :class:`FastDriver` packs the ids of the engine's compiled routes
  (:mod:`boflyt.engine.case.routes`, where the routing and join rules live once) with a few
  counters per case: one packed row per work item (its begin and its completion with the route
  that follows, as a template) in a ``bytearray``; :meth:`FastDriver.packed` expands the rows
  into event columns with numpy at the end. ``decide`` copies the case state on every command
  (measured in ``bench/simulate.py``), too slow for 100,000 cases; a test runs both drivers on
  the same seeds and requires identical event frames.

The simulator numbers every command with its heap counter (``order``), so the fast driver can
write a begin late, with its completion, and still put each case's events in command order.
"""

from __future__ import annotations

import datetime as dt
import itertools
import struct
from collections.abc import Iterator, Sequence

import numpy as np

from boflyt.engine.case.decide import BeginStep, CaseState, CompleteStep, Flow, StartCase, decide
from boflyt.engine.case.routes import MoveKind, Route, arrive
from boflyt.models.events import Event
from boflyt.models.vocabulary import EventKind, RunStatus

__all__ = [
    "BEGUN",
    "DONE",
    "EPOCH",
    "FINISHED",
    "HANDOFF",
    "KINDS",
    "PACK",
    "READY",
    "STARTED",
    "Completion",
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
"""A work item that became ready: (number, step index). Drivers return ``(base, ready)``; the
item's number is ``base + number``."""

Completion = tuple[int, int, int, float, int, int, int, float, float, int, int]
"""What the simulator tells a driver when a work item is done, one tuple for both drivers:
(case, item, step, minute, actor, org, outcome, touch, begun, begin_order, order).

``item`` is the work item's number in its case, ``step`` and ``outcome`` are indices (``-1``:
no outcome), ``actor`` and ``org`` name indices; ``touch`` is the hands-on minutes; ``begun``
and ``begin_order`` are the minute and the command number of the item's begin, ``order`` the
completion's own command number. A plain tuple, as cheap to build and unpack as arguments (a
NamedTuple's constructor is measurably slower on the simulator's hot path)."""

_Piece = tuple[int, int, int, int, int, int, int]
"""One event of a template: kind, step, to_step, item rule, item offset, who, outcome.

Item rule 0: no item; 1: the command's item; 2: the case's item count before the command plus
the offset. Who 0: nobody; 1: the command's actor and the step's organisation; 2: the engine
(the step's lane as organisation); 3: like 1 and also the outcome and the touch minutes.
"""

_Packed = tuple[int, tuple[Ready, ...], int, bool, Route | None]
"""A completion as the fast driver packs it: its template, the items made ready (offset, step),
the items made, whether it ends the case, and the route when joins are on the way (else None).
"""

ROW = np.dtype(
    [
        ("case", "<i4"),
        ("order", "<i8"),
        ("template", "<i4"),
        ("item", "<i4"),
        ("base", "<i4"),
        ("actor", "<i4"),
        ("minute", "<f8"),
        ("touch", "<f8"),
        ("begin_order", "<i8"),
        ("begun", "<f8"),
    ]
)
"""One packed command row of :class:`FastDriver`. A completion row also carries its item's
begin (``begin_order`` ≥ 0 and the minute ``begun``): one row per work item instead of two."""
PACK = struct.Struct("<iqiiiiddqd").pack  # the fields of ROW, unpadded


class FastDriver:
    """The engine's routes with a few counters per case; one packed row per work item.

    The events of a route (:class:`boflyt.engine.case.routes.Route`) are fixed, so each is
    compiled once into a template; a completion is stored as one packed row (with the item's
    begin, :data:`ROW`) naming the template of its route, led by the completion itself, and
    expanded into event rows with numpy at the end (:meth:`packed`), ordered by case and by
    the ``order`` the simulator gives each command. A route that reaches a join is followed by
    the route the case's arrivals choose, one more row each. ``orgs`` is the recording
    organisation (name index) of each step, as the simulator passes it to ``begin`` and
    ``complete``.

    The begin of a work item is written with its completion (``eager_begin`` is false): the
    simulator calls :meth:`begin` only for an item whose case ended while it was being worked.
    """

    eager_begin = False

    def __init__(
        self, flow: Flow, step_ids: Sequence[str], names: Sequence[str], orgs: Sequence[int]
    ) -> None:
        self.flow = flow
        self.orgs = list(orgs)
        self.index = {step: i for i, step in enumerate(step_ids)}
        self.names = {name: i for i, name in enumerate(names)}
        self.pieces: list[tuple[_Piece, ...]] = []
        self.template_of: dict[tuple[_Piece, ...], int] = {}
        self.rows = bytearray()
        self.items: list[int] = []
        self.arrivals: list[dict[str, frozenset[str]]] = []
        self.done: list[bool] = []
        start = self.index[flow.start] if flow.start else -1
        self.start_step = start
        self.opening = self._template(
            ((STARTED, -1, -1, 0, 0, 1, -1), (DONE, start, -1, 2, 1, 1, -1))
        )
        self.begun = [self._template(((BEGUN, i, -1, 1, 0, 1, -1),)) for i in range(len(step_ids))]
        self.plain = [self._template(self._pieces(route)) for route in flow.every_route]
        self.ready = [
            tuple((offset, self.index[step]) for offset, step in route.ready())
            for route in flow.every_route
        ]
        self.width = len(names) + 1
        self.compiled: list[_Packed | None] = [None] * (len(step_ids) * self.width)
        for (step, outcome), route in flow.routes.items():
            code = -1 if outcome is None else self.names[outcome]
            head = (DONE, self.index[step], -1, 1, 0, 3, code)
            template = self._template((head, *self._pieces(route)))
            self.compiled[self.index[step] * self.width + code + 1] = self._packed(template, route)
        after_start = flow.routes.get((flow.start, None)) if flow.start else None
        self.after_start = (
            self._packed(self.plain[after_start.id], after_start) if after_start else None
        )

    def _packed(self, template: int, route: Route) -> _Packed:
        """A route that reaches no join needs no join bookkeeping: whatever its completions
        reach, it would have reached (unless it ends the case, when arrivals no longer count)."""
        follow = route if route.join is not None else None
        return template, self.ready[route.id], route.items, route.finishes, follow

    def _template(self, pieces: tuple[_Piece, ...]) -> int:
        found = self.template_of.get(pieces)
        if found is None:
            found = self.template_of[pieces] = len(self.pieces)
            self.pieces.append(pieces)
        return found

    def _pieces(self, route: Route) -> tuple[_Piece, ...]:
        """The route's moves as template pieces; item offsets count from the route's base."""
        pieces: list[_Piece] = []
        items, index = 0, self.index
        for kind, step, source in route.moves:
            target = index[step.id]
            if kind is MoveKind.HANDOFF:
                pieces.append((HANDOFF, index[source.id if source else ""], target, 0, 0, 0, -1))
                continue
            items += 1
            if kind is MoveKind.READY:
                pieces.append((READY, target, -1, 2, items, 0, -1))
            else:
                pieces.append((DONE, target, -1, 2, items, 2, -1))
            if kind is MoveKind.FINISH:
                pieces.append((FINISHED, target, -1, 0, 0, 0, -1))
        return tuple(pieces)

    def start(
        self, case: int, t: float, actor: int, org: int, order: int
    ) -> tuple[int, Sequence[Ready]]:
        """Open case ``case``; returns (base, ready) as :meth:`complete` does."""
        self.items.append(1)
        self.arrivals.append({})
        self.done.append(False)
        self.rows += PACK(case, order, self.opening, 0, 0, actor, t, -1.0, -1, 0.0)
        packed = self.after_start
        if packed is None:
            return 0, ()
        if self.pieces[packed[0]]:
            self.rows += PACK(case, order, packed[0], 0, 1, -1, t, -1.0, -1, 0.0)
        return self._counted(case, packed, 1, t, order)

    def begin(
        self, case: int, item: int, step: int, t: float, actor: int, org: int, order: int
    ) -> None:
        """A begin on its own (its case ended before the item was completed)."""
        self.rows += PACK(case, order, self.begun[step], item, 0, actor, t, -1.0, -1, 0.0)

    def complete(self, completion: Completion) -> tuple[int, Sequence[Ready]]:
        """Begin (at ``begun``) and complete a work item; returns ``base`` and the items that
        became ready as (offset, step): item numbers are ``base + offset``."""
        case, item, step, t, actor, _, outcome, touch, begun, begin_order, order = completion
        packed = self.compiled[step * self.width + outcome + 1]
        assert packed is not None, "the simulator completes only steps the flow routes"
        base = self.items[case]
        self.rows += PACK(case, order, packed[0], item, base, actor, t, touch, begin_order, begun)
        return self._counted(case, packed, base, t, order)

    def _counted(
        self, case: int, packed: _Packed, base: int, t: float, order: int
    ) -> tuple[int, Sequence[Ready]]:
        """Count the route's items (packed at ``base``); follow it past joins when it has any."""
        _, ready, count, finishes, route = packed
        if route is not None:
            return 0, self.follow(case, route, base, t, order)
        self.items[case] = base + count
        if finishes:
            self.done[case] = True
        return base, ready

    def follow(self, case: int, route: Route, base: int, t: float, order: int) -> list[Ready]:
        """Join bookkeeping for a route already packed at ``base``, and a row for each route
        that follows it; the items made ready, numbered absolutely."""
        arrivals = self.arrivals[case]
        arrive(arrivals, route.step, route.reaches)
        ready: list[Ready] = []
        while True:
            self.items[case] = base + route.items
            ready += [(base + offset, step) for offset, step in self.ready[route.id]]
            route.arrive(arrivals)
            if route.finishes:
                self.done[case] = True
            after = route.after(arrivals)
            if after is None:
                return ready
            route, base = after, self.items[case]
            if after.moves:
                self.rows += PACK(case, order, self.plain[after.id], 0, base, -1, t, -1.0, -1, 0.0)

    def piece_table(self) -> np.ndarray:
        """Every template's pieces, one row each in template order (``int32``, 7 columns)."""
        flat = [p for pieces in self.pieces for p in pieces] or [(0,) * 7]
        return np.array(flat, dtype=np.int32).reshape(-1, 7)

    def packed(self) -> tuple[np.ndarray, ...]:
        """Every event, ordered by case and ``seq``: case, seq, piece (row of
        :meth:`piece_table`), command index; and per command its minute, item, base, actor,
        touch (``-1`` = none). The packed rows are released (call it once, at the end)."""
        return next(self.packed_slices(0))

    def packed_slices(self, rows: int) -> Iterator[tuple[np.ndarray, ...]]:
        """:meth:`packed` in slices of about ``rows`` events (``0``: one slice), each of whole
        cases and with its own command indices. There is no sort of every command: each slice
        picks its cases' rows from the packed rows and sorts only those, so memory beyond the
        packed rows is one slice's. The packed rows are released before the last slice is
        expanded."""
        sizes = np.array([len(p) for p in self.pieces], dtype=np.int64)
        first = (np.cumsum(sizes) - sizes).astype(np.int32)
        packed = np.frombuffer(self.rows, dtype=ROW)
        cases = len(self.items)
        events = sizes[packed["template"]] + (packed["begin_order"] >= 0)
        per_case = np.bincount(packed["case"], weights=events, minlength=cases)
        cuts = _case_cuts(np.cumsum(per_case.astype(np.int64)), rows)
        del events, per_case
        # the rows' positions by case (in written order within a case), and where each case's
        # run of positions starts: a slice of cases is one run of ``by_case``
        by_case = bounds = np.zeros(0, dtype=np.int64)
        if len(cuts) > 2:
            by_case = np.argsort(packed["case"], kind="stable").astype(np.int32)
            bounds = np.r_[0, np.cumsum(np.bincount(packed["case"], minlength=cases))]
        order = max(int(packed["order"].max(initial=0)), int(packed["begin_order"].max(initial=0)))
        head_step = np.array([p[0][1] if p else 0 for p in self.pieces], dtype=np.int32)
        begun = np.asarray(self.begun, dtype=np.int32)[head_step]
        for low, high in itertools.pairwise(cuts):
            whole = low == 0 and high == cases
            picked = packed if whole else packed[by_case[bounds[low] : bounds[high]]]
            commands = _commands(picked, begun, order + 1)
            del picked
            if high == cases:  # the last slice's commands are copies: free the packed rows
                del packed, by_case
                self.rows = bytearray()
            yield _expand(commands, sizes, first)
            del commands


def _commands(rows: np.ndarray, begun: np.ndarray, span: int) -> dict[str, np.ndarray]:
    """Packed rows (of :data:`ROW`) as command columns named like its fields (without the
    begin fields): begins split off their completions, ordered by case and ``order`` (stable:
    rows of one route keep their order). ``begun[t]`` is the begin template of the step that
    heads template ``t``; ``span`` exceeds every ``order``."""
    late = np.flatnonzero(rows["begin_order"] >= 0)
    extra = {
        "case": rows["case"][late],
        "order": rows["begin_order"][late],
        "template": begun[rows["template"][late]],
        "item": rows["item"][late],
        "base": np.zeros(len(late), dtype=np.int32),
        "actor": rows["actor"][late],
        "minute": rows["begun"][late],
        "touch": np.full(len(late), -1.0),
    }
    del late
    columns = {name: np.concatenate([rows[name], more]) for name, more in extra.items()}
    del extra
    key = columns["case"].astype(np.int64) * span + columns.pop("order")
    order = np.argsort(key, kind="stable")
    del key
    for name in list(columns):  # one column at a time: one extra column in memory
        columns[name] = columns[name][order]
    return columns


def _case_cuts(ends: np.ndarray, rows: int) -> list[int]:
    """Case numbers that cut the cases (``ends`` the running count of their events) into runs
    of about ``rows`` events (``0``: one run): a run ends before the case that holds its
    ``rows``-th event."""
    cuts = [0]
    total = int(ends[-1]) if len(ends) else 0
    for target in range(rows, total, rows) if rows > 0 else ():
        cut = int(np.searchsorted(ends, target, side="right"))
        if cut > cuts[-1]:
            cuts.append(cut)
    return [*cuts, len(ends)]


def _expand(
    rows: dict[str, np.ndarray], sizes: np.ndarray, first: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Commands (whole cases, in case order) as one row per event: see
    :meth:`FastDriver.packed`."""
    template = rows["template"]
    repeat = sizes[template]
    cmd = np.repeat(np.arange(len(template), dtype=np.int32), repeat)
    starts = np.repeat(np.cumsum(repeat) - repeat, repeat)
    del repeat
    within = (np.arange(len(cmd), dtype=np.int64) - starts).astype(np.int32)
    del starts
    cases = rows["case"][cmd]
    edge = np.r_[0, np.flatnonzero(cases[1:] != cases[:-1]) + 1]
    seq = np.arange(1, len(cmd) + 1, dtype=np.int64)
    seq -= np.repeat(edge, np.diff(np.r_[edge, len(cmd)]))
    piece = first[template[cmd]] + within
    fields = ("minute", "item", "base", "actor", "touch")
    return (cases, seq, piece, cmd, *(rows[f] for f in fields))


class EngineDriver:
    """Every command through :func:`boflyt.engine.case.decide.decide`; keeps real case states and
    events.

    The ``order`` arguments (and a completion's ``begun`` and ``begin_order``) are for the fast
    driver; this one decides every command when it happens (``eager_begin``).
    """

    eager_begin = True

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

    def start(
        self, case: int, t: float, actor: int, org: int, order: int
    ) -> tuple[int, Sequence[Ready]]:
        command = StartCase(self.case_ids[case], self.names[actor], self.names[org])
        decision = decide(self.flow, None, command, now=EPOCH + dt.timedelta(minutes=t))
        self.states.append(decision.state)
        self.done.append(decision.state.status is not RunStatus.RUNNING)
        return 0, self._record(decision.events, t)

    def begin(
        self, case: int, item: int, step: int, t: float, actor: int, org: int, order: int
    ) -> None:
        command = BeginStep(self.step_ids[step], self.names[actor], self.names[org])
        self._decide(case, command, t)

    def complete(self, completion: Completion) -> tuple[int, Sequence[Ready]]:
        case, _, step, t, actor, org, outcome, touch, *_ = completion
        chosen = self.names[outcome] if outcome >= 0 else None
        command = CompleteStep(
            self.step_ids[step], self.names[actor], self.names[org], chosen, touch
        )
        return 0, self._decide(case, command, t)

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
