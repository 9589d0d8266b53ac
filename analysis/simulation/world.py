"""The simulator's event loop: the compiled plan of a version under a scenario, and the world.

:class:`Plan` holds what the loop needs per step as plain lists (durations, staff lanes,
recording organisation, decision bands); :class:`World` runs the ``heapq`` loop over working
minutes with the staff pools and their first-come-first-served queues, and tells a driver
(:mod:`boflyt.analysis.simulation.drivers`) what happens. See
:mod:`boflyt.analysis.simulation.cohort`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from heapq import heappop, heappush, heappushpop
from itertools import chain, count

import numpy as np

from boflyt.analysis.simulation.drivers import PACK, EngineDriver, FastDriver, Ready
from boflyt.analysis.simulation.series import Series
from boflyt.engine.case.decide import Flow
from boflyt.models.definition import Duration
from boflyt.models.scenario import Scenario
from boflyt.models.vocabulary import StepKind

__all__ = ["Plan", "World"]

_ARRIVE, _WAITED, _TOUCHED = 0, 1, 2
_BLOCK = 1 << 16
_UNSTAFFED, _JOINT = -2, -1
"""``Plan.single``: a step needs no staff / people of several lanes (else the one lane)."""


# --------------------------------------------------------------------------- the plan


_Spec = tuple[int, float, float, float, float]
"""A compiled duration: (dist, low, high, mode, high - low); dist 0 fixed, 1 uniform, 2
triangular. The event loop inlines the fixed and uniform cases as ``low + u * span`` (a fixed
duration's span is 0)."""


def _draw(spec: _Spec, u: float) -> float:
    """Inverse-CDF draw from a compiled duration."""
    dist, low, high, mode, _ = spec
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


def _spec(duration: Duration, scale: float) -> _Spec:
    code = {"fixed": 0, "uniform": 1, "triangular": 2}[duration.dist]
    mode = duration.mode if duration.mode is not None else duration.low
    low, high = duration.low * scale, duration.high * scale
    return code, low, high, mode * scale, high - low


class Plan:
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
        self.rate = scenario.arrivals_per_minute
        self.start_org = self.org[self.step_ids.index(flow.start)] if flow.start else 0

    def _choices(
        self, flow: Flow, step_id: str, kind: StepKind
    ) -> tuple[int, tuple[tuple[float, int], ...]]:
        """A decision's outcomes as (last outcome, ((cumulative probability, outcome), …));
        ``(-1, ())`` for other steps. The last outcome is taken when rounding leaves u above
        every bound."""
        if kind is not StepKind.DECISION:
            return -1, ()
        edges = [t for t in flow.version.transitions if t.source == step_id and t.outcome]
        outcomes = [self.name[t.outcome or ""] for t in edges]
        cumulative = np.cumsum([t.p for t in edges]).tolist()
        return outcomes[-1], tuple(zip(cumulative, outcomes, strict=True))

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

_Entry = tuple[float, int, int, int, int, int, float, Held, float]
"""A heap event: time, tie-break counter, code, case, item, step, touch minutes, people, and
the minute the item was begun. The counter also orders the commands of a case."""


class _Request:
    """A ready work item collecting one person per staffed lane of its step."""

    __slots__ = ("case", "held", "item", "position", "step")

    def __init__(self, case: int, item: int, step: int) -> None:
        self.case, self.item, self.step = case, item, step
        self.position = 0
        self.held: list[int] = []


class World:
    """The heap of pending events, the staff pools and their queues.

    The hot paths (an item that needs at most one person who is free, a release with nobody
    queued) bind everything they touch to locals; queues and joint steps go through
    :meth:`acquire` and :meth:`release`.
    """

    def __init__(
        self,
        plan: Plan,
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
        heap, pop, push, pushpop, done = self.heap, heappop, heappush, heappushpop, driver.done
        waits, touches, choices, orgs, single = (
            plan.wait,
            plan.touch,
            plan.choices,
            plan.org,
            plan.single,
        )
        start, complete, request, release = (
            driver.start,
            driver.complete,
            self.request,
            self.release,
        )
        queues, free, lane_of = self.queues, self.free, self.lane_of
        busy_at, busy_by = [s.times.append for s in self.busy], [s.deltas.append for s in self.busy]
        queued_at = [s.times.append for s in self.waiting]
        queued_by = [s.deltas.append for s in self.waiting]
        eager = driver.eager_begin
        # the fast driver's completion inlined (FastDriver.complete): its compiled routes
        fast = driver if isinstance(driver, FastDriver) else None
        compiled = fast.compiled if fast is not None else []
        items = fast.items if fast is not None else []
        rows = fast.rows if fast is not None else bytearray()
        width = fast.width if fast is not None else 0
        entry: _Entry = (arrivals[0], counter(), _ARRIVE, 0, 0, 0, 0.0, (), 0.0)
        finished, report, clock, isnan = 0, max(cases // 100, 1), 0.0, math.isnan
        while True:
            t, number, code, case, item, step, touch, held, begun = entry
            if code == _WAITED:
                lane = single[step]
                if done[case]:
                    pass
                elif eager or lane == _JOINT:
                    request(case, item, step, t)
                elif lane >= 0 and not free[lane]:  # acquire inlined for one lane
                    queues[lane].append(_Request(case, item, step))
                    queued_at[lane](t)
                    queued_by[lane](1.0)
                else:  # request + begin inlined: no people needed (held stays the waiting
                    # entry's empty tuple) or one who is free
                    if lane >= 0:
                        busy_at[lane](t)
                        busy_by[lane](1.0)
                        held = (free[lane].pop(),)
                    spec, u = touches[step], uniform()
                    touch = spec[1] + u * spec[4] if spec[0] < 2 else _draw(spec, u)
                    # pushed and the next event popped at once: the same as push(), pop()
                    entry = pushpop(
                        heap, (t + touch, counter(), _TOUCHED, case, item, step, touch, held, t)
                    )
                    continue
            else:
                clock, base = t, 0
                ready: Sequence[Ready] = ()
                if code == _ARRIVE:
                    self.arrived.append(t)
                    if case + 1 < cases:
                        after = (
                            arrivals[case + 1],
                            counter(),
                            _ARRIVE,
                            case + 1,
                            0,
                            0,
                            0.0,
                            (),
                            0.0,
                        )
                        push(heap, after)
                    base, ready = start(case, t, 0, plan.start_org, counter())
                else:
                    actor = (
                        held[0]
                        if len(held) == 1
                        else self.actor(step, held)
                        if held
                        else orgs[step]
                    )
                    if not done[case]:
                        outcome, bands = choices[step]
                        if bands:  # a decision: the outcome whose cumulative band holds u
                            u = uniform()
                            for bound, chosen in bands:
                                if u < bound:
                                    outcome = chosen
                                    break
                        if fast is not None:  # FastDriver.complete; only routed steps complete
                            packed = compiled[step * width + outcome + 1]
                            template, ready, made, finishes, route = packed  # type: ignore[misc]
                            base, order = items[case], counter()
                            rows += PACK(case, order, template, item, base, actor, t, touch,
                                          number, begun)  # fmt: skip
                            if route is None:
                                items[case] = base + made
                                if finishes:
                                    done[case] = True
                            else:
                                base, ready = 0, fast.follow(case, route, base, t, order)
                        else:
                            base, ready = complete(
                                (case, item, step, t, actor, orgs[step], outcome, touch,
                                 begun, number, counter())
                            )  # fmt: skip
                    elif not eager:
                        driver.begin(case, item, step, begun, actor, orgs[step], number)
                    for person in held:
                        lane = lane_of[person]
                        if queues[lane]:
                            release(lane, person, t)
                        else:
                            free[lane].append(person)
                            busy_at[lane](t)
                            busy_by[lane](-1.0)
                if done[case] and isnan(ended[case]):
                    ended[case] = t
                    finished += 1
                    if self.progress is not None and finished % report == 0:
                        self.progress(finished)
                for offset, target in ready:
                    spec, u = waits[target], uniform()
                    wait = spec[1] + u * spec[4] if spec[0] < 2 else _draw(spec, u)
                    if wait > 0:
                        push(heap, (t + wait, counter(), _WAITED, case, base + offset, target,
                                    0.0, (), 0.0))  # fmt: skip
                    else:
                        request(case, base + offset, target, t)
            if not heap:
                break
            entry = pop(heap)
        self.clock = clock
        if self.progress is not None and finished % report:
            self.progress(finished)

    def request(self, case: int, item: int, step: int, t: float) -> None:
        """Ask for the step's people: at once when free (the common case), else in a queue."""
        lane = self.plan.single[step]
        if lane == _UNSTAFFED:
            self.begin(case, item, step, (), t)
        elif lane >= 0 and self.free[lane]:
            busy = self.busy[lane]
            busy.times.append(t)
            busy.deltas.append(1.0)
            self.begin(case, item, step, (self.free[lane].pop(),), t)
        else:
            self.acquire(_Request(case, item, step), t)

    def begin(self, case: int, item: int, step: int, held: Held, t: float) -> None:
        """Begin the item with the people it holds; it completes after its touch time."""
        if self.driver.eager_begin:
            actor = held[0] if len(held) == 1 else self.actor(step, held)
            self.driver.begin(case, item, step, t, actor, self.plan.org[step], 0)
        spec, u = self.plan.touch[step], self.uniform()
        touch = spec[1] + u * spec[4] if spec[0] < 2 else _draw(spec, u)
        heappush(self.heap, (t + touch, self.counter(), _TOUCHED, case, item, step, touch, held, t))

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
            waiting = self.waiting[lane]
            waiting.times.append(t)
            waiting.deltas.append(-1.0)
            if self.driver.done[request.case]:
                for who in request.held:
                    self.release(self.lane_of[who], who, t)
                continue
            request.held.append(person)
            request.position += 1
            if request.position < len(self.plan.staff[request.step]):
                self.acquire(request, t)
            else:
                self.begin(request.case, request.item, request.step, tuple(request.held), t)
            return
        self.free[lane].append(person)
        self.busy[lane].add(t, -1)
