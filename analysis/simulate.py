"""Discrete-event simulation of a version under a scenario: staff capacity, waits, seeded.

The clock counts **working minutes** (the scenario's hours per day on its working days, minus
holidays); nights, weekends and holidays do not exist on it, and events are stamped with
calendar datetimes at the end (:func:`analysis.simulation_log.stamp`). Cases arrive as a
Poisson stream (``arrivals_per_week`` spread over the week's working minutes). Each work item
that becomes ready first waits its ``wait_days`` (drawn; outside parties and timers use no
staff), then queues first-come-first-served for one person of every organisation that works on
the step (its lane and ``joint_with`` lanes; people are taken in lane order, which rules out
deadlock), is begun, takes its ``touch_minutes`` and is completed with an outcome drawn by the
transition probabilities. Lanes without a ``capacity`` entry and outside parties are unlimited.

Routing — decisions, rework loops, parallel split and join, end — is the case engine's
(:mod:`engine.case`); see :mod:`analysis.simulation_drivers` for the two drivers. The event loop is
a plain ``heapq`` over one seeded numpy ``Generator`` whose uniforms are drawn in blocks: on the
same queueing chain SimPy was measured slower without writing any log than this loop with the
full log (``bench/simulate.py``).

>>> from tests.factories import linear_version
>>> from models.scenario import Scenario
>>> s = Scenario(name="demo", arrivals_per_week=5, start="2025-01-06", capacity={"nav": 1})
>>> r = simulate(linear_version(), s, cases=20, seed=1)
>>> r.events.height, r.summary()["cases"]
(220, 20)
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from itertools import chain, count
from typing import Literal

import numpy as np
import polars as pl

from analysis.calendar import WorkCalendar, norwegian_holidays
from analysis.simulation_drivers import EngineDriver, FastDriver, Ready
from analysis.simulation_log import stamp, to_frame
from analysis.simulation_result import SimulationResult, build_result, merge_results
from analysis.simulation_series import Series
from engine.case import Flow, compile_flow
from models.definition import Duration, LaneCatalog, Version
from models.scenario import Scenario
from models.vocabulary import StepKind

__all__ = ["SimulationResult", "calendar_of", "chunk_size", "simulate", "simulate_chunk"]

_HUMAN = (StepKind.TASK, StepKind.DECISION, StepKind.WAIT)
_ARRIVE, _WAITED, _TOUCHED = 0, 1, 2
_BLOCK = 1 << 16
_UNSTAFFED, _JOINT = -2, -1
"""``_Plan.single``: a step needs no staff / people of several lanes (else the one lane)."""


def calendar_of(scenario: Scenario, *, years: int = 1) -> WorkCalendar:
    """The scenario's working calendar covering ``years`` years from its start."""
    first = scenario.start.year
    holidays = (
        norwegian_holidays(range(first - 1, first + years + 1))
        if scenario.holidays == "norway"
        else frozenset()
    )
    return WorkCalendar(
        hours_per_day=scenario.hours_per_day, weekdays=scenario.weekday_numbers, holidays=holidays
    )


def simulate(
    version: Version,
    scenario: Scenario,
    *,
    cases: int,
    seed: int,
    lanes: LaneCatalog | None = None,
    progress: Callable[[int], None] | None = None,
    chunks: int = 1,
    driver: Literal["fast", "engine"] = "fast",
    case_prefix: str = "sim",
) -> SimulationResult:
    """Simulate ``cases`` cases of ``version`` under ``scenario`` with seed ``seed``.

    ``chunks`` > 1 splits the cases into that many independent replications (what the Prefect
    flow runs as separate tasks); the result is the same either way. ``lanes`` marks outside
    parties. ``progress`` is called with the number of cases finished so far.

    Raises:
        ValueError: ``cases`` < 1 or ``chunks`` < 1.
    """
    if cases < 1 or chunks < 1:
        raise ValueError(f"cases and chunks must be at least 1, not {cases} and {chunks}")
    done = 0

    def tick(n: int) -> None:
        if progress is not None:
            progress(done + n)

    parts = []
    for chunk in range(min(chunks, cases)):
        size = chunk_size(cases, chunks, chunk)
        parts.append(
            simulate_chunk(
                version,
                scenario,
                cases=size,
                seed=seed,
                chunk=chunk,
                lanes=lanes,
                progress=tick,
                driver=driver,
                case_prefix=case_prefix,
            )
        )
        done += size
    return parts[0] if len(parts) == 1 else merge_results(parts)


def chunk_size(cases: int, chunks: int, chunk: int) -> int:
    """Cases in replication ``chunk`` when ``cases`` are split into ``chunks`` near-equal parts."""
    return cases // chunks + (1 if chunk < cases % chunks else 0)


def simulate_chunk(
    version: Version,
    scenario: Scenario,
    *,
    cases: int,
    seed: int,
    chunk: int = 0,
    lanes: LaneCatalog | None = None,
    progress: Callable[[int], None] | None = None,
    driver: Literal["fast", "engine"] = "fast",
    case_prefix: str = "sim",
) -> SimulationResult:
    """One independent replication; its generator is seeded with ``(seed, chunk)``."""
    outside = frozenset(x.id for x in lanes.lanes if x.outside) if lanes else frozenset()
    flow = compile_flow(version, outside)
    plan = _Plan(flow, scenario)
    ids = [f"{case_prefix}-{chunk}-{i + 1:06d}" for i in range(cases)]
    engine: FastDriver | EngineDriver
    if driver == "engine":
        engine = EngineDriver(flow, plan.step_ids, plan.names)
        engine.case_ids = ids
    else:
        engine = FastDriver(flow, plan.step_ids, plan.names, plan.org)
    world = _World(plan, engine, np.random.default_rng([seed, chunk]), progress)
    world.run(cases)
    years = math.ceil(world.clock / scenario.minutes_per_day / (len(scenario.working_days) * 50))
    calendar = calendar_of(scenario, years=years + 1)
    events = to_frame(
        engine,
        case_ids=ids,
        step_ids=plan.step_ids,
        names=plan.names,
        flow=flow,
        calendar=calendar,
        origin=scenario.start,
    )
    return _result(world, plan, scenario, version, seed, cases, events, calendar)


# --------------------------------------------------------------------------- the plan


def _draw(spec: tuple[int, float, float, float], u: float) -> float:
    """Inverse-CDF draw from a compiled duration: (dist, low, high, mode)."""
    dist, low, high, mode = spec
    if dist == 0:
        return low
    if dist == 1:
        return low + u * (high - low)
    span = high - low
    if span == 0:
        return low
    cut = (mode - low) / span
    if u < cut:
        return low + math.sqrt(u * span * (mode - low))
    return high - math.sqrt((1.0 - u) * span * (high - mode))


def _spec(duration: Duration, scale: float) -> tuple[int, float, float, float]:
    code = {"fixed": 0, "uniform": 1, "triangular": 2}[duration.dist]
    mode = duration.mode if duration.mode is not None else duration.low
    return code, duration.low * scale, duration.high * scale, mode * scale


class _Plan:
    """Everything the event loop needs per step, as plain lists indexed by step number."""

    def __init__(self, flow: Flow, scenario: Scenario) -> None:
        version = flow.version
        self.step_ids = [s.id for s in version.steps]
        every = list(
            dict.fromkeys([*version.lanes, *(lane for s in version.steps for lane in s.lanes)])
        )
        internal = [lane for lane in every if lane not in flow.outside]
        staffed = [lane for lane in internal if scenario.capacity.get(lane, 0) > 0]
        self.capacity = {lane: scenario.capacity[lane] for lane in staffed}
        actors = [f"{lane}#{k + 1}" for lane in staffed for k in range(self.capacity[lane])]
        outcomes = sorted({t.outcome for t in version.transitions if t.outcome})
        self.names = ["simulator", *every, *actors, *outcomes]
        self.name = {name: i for i, name in enumerate(self.names)}
        self.lanes = staffed
        self.wait, self.touch, self.staff, self.org, self.choices = [], [], [], [], []
        self.org_lane: list[int] = []
        for step in version.steps:
            override = scenario.overrides.get(step.id)
            wait = (override.wait_days if override else None) or step.wait_days
            touch = (override.touch_minutes if override else None) or step.touch_minutes
            self.wait.append(_spec(wait, scenario.minutes_per_day))
            self.touch.append(_spec(touch, 1.0))
            self.staff.append(tuple(sorted(staffed.index(x) for x in step.lanes if x in staffed)))
            fallback = internal[0] if internal else step.lane
            recorder = next((x for x in step.lanes if x in internal), fallback)
            self.org.append(self.name[recorder])
            self.org_lane.append(staffed.index(recorder) if recorder in staffed else -1)
            self.choices.append(self._choices(flow, step.id, step.kind))
        self.single = [
            _UNSTAFFED if not lanes else lanes[0] if len(lanes) == 1 else _JOINT
            for lanes in self.staff
        ]
        self.human = [s.kind in _HUMAN for s in version.steps]
        self.rate = scenario.arrivals_per_minute
        self.start_org = self.org[self.step_ids.index(flow.start)] if flow.start else 0

    def _choices(self, flow: Flow, step_id: str, kind: StepKind) -> tuple[list[float], list[int]]:
        if kind is not StepKind.DECISION:
            return [], []
        edges = [t for t in flow.version.transitions if t.source == step_id and t.outcome]
        cumulative = list(np.cumsum([t.p for t in edges]))
        return cumulative, [self.name[t.outcome or ""] for t in edges]

    def lane_of_actor(self) -> list[int]:
        """The staffed lane of each actor name index (``-1`` for other names)."""
        lanes = [-1] * len(self.names)
        for lane in range(len(self.lanes)):
            for person in self.actor_names(lane):
                lanes[person] = lane
        return lanes

    def actor_names(self, lane: int) -> list[int]:
        name = self.lanes[lane]
        return [self.name[f"{name}#{k}"] for k in range(self.capacity[name], 0, -1)]


# --------------------------------------------------------------------------- the event loop


Held = tuple[int, ...]
"""People a work item holds, as actor name indices."""

_Entry = tuple[float, int, int, int, int, int, float, Held]
"""A heap event: time, tie-break counter, code, case, item, step, touch minutes, people."""


class _Request:
    """A ready work item collecting one person per staffed lane of its step."""

    __slots__ = ("case", "held", "item", "position", "step")

    def __init__(self, case: int, item: int, step: int) -> None:
        self.case, self.item, self.step = case, item, step
        self.position = 0
        self.held: list[int] = []


class _World:
    """The heap of pending events, the staff pools and their queues.

    The hot paths (an item that needs at most one person who is free, a release with nobody
    queued) bind everything they touch to locals; queues and joint steps go through
    :meth:`acquire` and :meth:`release`.
    """

    def __init__(
        self,
        plan: _Plan,
        driver: FastDriver | EngineDriver,
        rng: np.random.Generator,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.plan, self.driver, self.rng, self.progress = plan, driver, rng, progress
        blocks = iter(lambda: rng.random(_BLOCK).tolist(), None)
        self.uniform: Callable[[], float] = chain.from_iterable(blocks).__next__
        self.heap: list[_Entry] = []
        self.counter = count().__next__
        self.clock = 0.0
        self.free = [plan.actor_names(lane) for lane in range(len(plan.lanes))]
        self.lane_of = plan.lane_of_actor()
        self.queues: list[deque[_Request]] = [deque() for _ in plan.lanes]
        self.busy = [Series() for _ in plan.lanes]
        self.waiting = [Series() for _ in plan.lanes]
        self.arrived: list[float] = []
        self.ended: list[float] = []

    def run(self, cases: int) -> None:
        """Simulate until every one of ``cases`` arrivals has reached an end."""
        plan, driver, uniform, counter = self.plan, self.driver, self.uniform, self.counter
        arrivals = np.cumsum(self.rng.exponential(1.0 / plan.rate, cases)).tolist()
        self.ended = ended = [math.nan] * cases
        heap, pop, push, done = self.heap, heappop, heappush, driver.done
        waits, choices, orgs = plan.wait, plan.choices, plan.org
        start, complete, request, release = (
            driver.start,
            driver.complete,
            self.request,
            self.release,
        )
        queues, free, lane_of, busy = self.queues, self.free, self.lane_of, self.busy
        push(heap, (arrivals[0], counter(), _ARRIVE, 0, 0, 0, 0.0, ()))
        finished, report, clock = 0, max(cases // 100, 1), 0.0
        while heap:
            t, _, code, case, item, step, touch, held = pop(heap)
            if code == _WAITED:
                if not done[case]:
                    request(case, item, step, t)
                continue
            clock, base = t, 0
            ready: Sequence[Ready] = ()
            if code == _ARRIVE:
                self.arrived.append(t)
                if case + 1 < cases:
                    push(heap, (arrivals[case + 1], counter(), _ARRIVE, case + 1, 0, 0, 0.0, ()))
                base, ready = start(case, t, 0, plan.start_org)
            else:
                if not done[case]:
                    cumulative, outcomes = choices[step]
                    outcome = _choose(cumulative, outcomes, uniform()) if outcomes else -1
                    actor = held[0] if len(held) == 1 else self.actor(step, held)
                    base, ready = complete(case, item, step, t, actor, orgs[step], outcome, touch)
                for person in held:
                    lane = lane_of[person]
                    if queues[lane]:
                        release(lane, person, t)
                    else:
                        free[lane].append(person)
                        busy[lane].add(t, -1)
            if done[case] and math.isnan(ended[case]):
                ended[case] = t
                finished += 1
                if self.progress is not None and finished % report == 0:
                    self.progress(finished)
            for offset, target in ready:
                wait = _draw(waits[target], uniform())
                if wait > 0:
                    push(heap, (t + wait, counter(), _WAITED, case, base + offset, target, 0.0, ()))
                else:
                    request(case, base + offset, target, t)
        self.clock = clock
        if self.progress is not None and finished % report:
            self.progress(finished)

    def request(self, case: int, item: int, step: int, t: float) -> None:
        """Ask for the step's people: at once when free (the common case), else in a queue;
        a begun item draws its touch time and is pushed to complete."""
        plan = self.plan
        lane = plan.single[step]
        if lane == _UNSTAFFED:
            held: Held = ()
        elif lane >= 0 and self.free[lane]:
            busy = self.busy[lane]
            busy.times.append(t)
            busy.deltas.append(1.0)
            held = (self.free[lane].pop(),)
        else:
            self.acquire(_Request(case, item, step), t)
            return
        self.begin(case, item, step, held, t)

    def begin(self, case: int, item: int, step: int, held: Held, t: float) -> None:
        """Begin the item with the people it holds; it completes after its touch time."""
        plan = self.plan
        actor = held[0] if len(held) == 1 else self.actor(step, held)
        self.driver.begin(case, item, step, t, actor, plan.org[step])
        touch = _draw(plan.touch[step], self.uniform())
        heappush(self.heap, (t + touch, self.counter(), _TOUCHED, case, item, step, touch, held))

    def acquire(self, request: _Request, t: float) -> None:
        """Take one person of each staffed lane in order; queue where none is free."""
        lanes = self.plan.staff[request.step]
        while request.position < len(lanes):
            lane = lanes[request.position]
            if not self.free[lane]:
                self.queues[lane].append(request)
                self.waiting[lane].add(t, 1.0)
                return
            request.held.append(self.free[lane].pop())
            self.busy[lane].add(t, 1.0)
            request.position += 1
        self.begin(request.case, request.item, request.step, tuple(request.held), t)

    def actor(self, step: int, held: Held) -> int:
        """Who records the step: the recording organisation's person, else the organisation."""
        if not held:
            return self.plan.org[step]
        if len(held) == 1:
            return held[0]
        lane = self.plan.org_lane[step]
        return next((person for person in held if self.lane_of[person] == lane), held[0])

    def release(self, lane: int, person: int, t: float) -> None:
        """Give the person to the first live request queued for the lane, else free them."""
        queue = self.queues[lane]
        while queue:
            request = queue.popleft()
            self.waiting[lane].add(t, -1)
            if self.driver.done[request.case]:
                for who in request.held:
                    self.release(self.lane_of[who], who, t)
                continue
            request.held.append(person)
            request.position += 1
            self.acquire(request, t)
            return
        self.free[lane].append(person)
        self.busy[lane].add(t, -1)


def _choose(cumulative: Sequence[float], outcomes: Sequence[int], u: float) -> int:
    """The outcome whose cumulative probability band holds ``u`` (the last one otherwise)."""
    for bound, chosen in zip(cumulative, outcomes, strict=True):
        if u < bound:
            return chosen
    return outcomes[-1]


# --------------------------------------------------------------------------- results


def _result(
    world: _World,
    plan: _Plan,
    scenario: Scenario,
    version: Version,
    seed: int,
    cases: int,
    events: pl.DataFrame,
    calendar: WorkCalendar,
) -> SimulationResult:
    return build_result(
        process=version.process,
        version=version.version,
        scenario=scenario.name,
        seed=seed,
        events=events,
        arrived=np.asarray(world.arrived),
        ended=np.asarray(world.ended),
        busy={lane: world.busy[i] for i, lane in enumerate(plan.lanes)},
        queued={lane: world.waiting[i] for i, lane in enumerate(plan.lanes)},
        capacity=plan.capacity,
        horizon=world.clock,
        dates=lambda days: _dates(calendar, scenario.start, days, scenario.minutes_per_day),
        per_day=scenario.minutes_per_day,
    )


def _dates(calendar: WorkCalendar, origin: dt.date, days: int, per_day: float) -> pl.Series:
    """The calendar date of each working day 0..days-1."""
    starts = stamp(calendar, origin, np.arange(days, dtype=np.float64) * per_day + 1.0)
    return pl.Series("day", starts.astype("datetime64[D]"), dtype=pl.Date)
