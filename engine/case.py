"""The case engine: a pure state machine over one version's flow graph.

``decide(version, state, command, *, now)`` returns the new state and the events the command
caused; it does no I/O, reads no clock and touches no database. Every state change is made by
applying an event, and :func:`replay` applies the same function to a stored event log, so
replaying a case's events rebuilds exactly the state ``decide`` produced.

Routing is compiled once per version into a :class:`Flow` (plain dicts and tuples, cached by
content hash), which keeps ``decide`` fast enough for simulation. Semantics:

* ``start``, ``auto``, ``parallel``, ``join`` (once every incoming branch has arrived) and
  ``end`` complete automatically inside the same ``decide``; reaching an ``end`` finishes the
  case and cancels any work item still open.
* ``task``, ``decision`` and ``wait`` steps become *ready* work items that staff begin and
  complete; completing a ready item implies beginning it at the same instant.
* A rework loop makes a new work item for the revisited step: no item completes twice.
* Every transition between steps of different owning lanes emits a ``handoff`` event.
* The acting organisation must be the step's lane or one of its ``joint_with`` lanes; a step in
  an outside lane may be recorded by any internal lane of the version.

All timestamps are naive UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from models.definition import Version
from models.errors import AccessError, CommandError, NotFoundError
from models.events import Event
from models.vocabulary import EventKind, ItemStatus, RunStatus, StepKind

__all__ = [
    "BeginStep",
    "CancelCase",
    "CaseState",
    "Command",
    "CompleteStep",
    "Decision",
    "Escalate",
    "Flow",
    "FlowStep",
    "StartCase",
    "WorkItem",
    "compile_flow",
    "decide",
    "open_items",
    "overdue_items",
    "ready_items",
    "replay",
    "working_minutes",
]

_AUTOMATIC = frozenset({StepKind.START, StepKind.AUTO, StepKind.PARALLEL, StepKind.JOIN})
_OPEN = (ItemStatus.READY, ItemStatus.STARTED)


# --------------------------------------------------------------------------- the compiled flow


@dataclass(frozen=True, slots=True)
class FlowStep:
    """What ``decide`` needs to know about one step, precomputed."""

    id: str
    kind: StepKind
    lane: str
    allowed: frozenset[str]
    """Organisations that may begin or complete the step."""
    channel: str | None
    extra_transactions: int
    outcomes: tuple[str, ...]
    wait_days_high: float


@dataclass(frozen=True, slots=True)
class Flow:
    """The routing of one version, compiled to dicts for fast lookup."""

    version: Version
    content_hash: str
    start: str
    steps: Mapping[str, FlowStep]
    routes: Mapping[tuple[str, str | None], tuple[str, ...]]
    join_inputs: Mapping[str, frozenset[str]]
    outside: frozenset[str]

    def next_steps(self, step_id: str, outcome: str | None = None) -> tuple[str, ...]:
        """Steps the case moves to when ``step_id`` completes with ``outcome``.

        A parallel split returns all its targets; a decision returns the one target of the
        outcome (``()`` for an unknown outcome); an end returns ``()``.
        """
        return self.routes.get((step_id, outcome), ())

    def step(self, step_id: str) -> FlowStep:
        """The compiled step; :class:`NotFoundError` naming the known steps otherwise."""
        found = self.steps.get(step_id)
        if found is None:
            known = ", ".join(sorted(self.steps))
            raise NotFoundError(
                f"{self.version.key} has no step '{step_id}'; its steps are: {known}"
            )
        return found


_FLOWS: dict[tuple[str, frozenset[str]], Flow] = {}
_BY_ID: dict[int, tuple[Version, frozenset[str], Flow]] = {}


def compile_flow(version: Version, outside: frozenset[str] = frozenset()) -> Flow:
    """The compiled routing of ``version``; cached by content hash and outside lanes.

    ``outside`` names the lanes of outside parties (``Lane.outside`` in the lane catalog).
    """
    hit = _BY_ID.get(id(version))
    if hit is not None and hit[0] is version and hit[1] == outside:
        return hit[2]
    content_hash = version.content_hash
    flow = _FLOWS.get((content_hash, outside))
    if flow is None:
        flow = _FLOWS[(content_hash, outside)] = _compile(version, content_hash, outside)
    if len(_BY_ID) > 256:
        _BY_ID.clear()
    _BY_ID[id(version)] = (version, outside, flow)
    return flow


def _compile(version: Version, content_hash: str, outside: frozenset[str]) -> Flow:
    internal = frozenset(version.lanes) - outside
    outgoing: dict[str, list[tuple[str | None, str]]] = {s.id: [] for s in version.steps}
    inputs: dict[str, set[str]] = {s.id: set() for s in version.steps}
    for t in version.transitions:
        outgoing.setdefault(t.source, []).append((t.outcome, t.target))
        inputs.setdefault(t.target, set()).add(t.source)
    steps: dict[str, FlowStep] = {}
    routes: dict[tuple[str, str | None], tuple[str, ...]] = {}
    for s in version.steps:
        edges = outgoing[s.id]
        outcomes = (
            tuple(o for o, _ in edges if o is not None) if s.kind is StepKind.DECISION else ()
        )
        allowed = frozenset(s.lanes) | (internal if s.lane in outside else frozenset())
        steps[s.id] = FlowStep(
            id=s.id,
            kind=s.kind,
            lane=s.lane,
            allowed=allowed,
            channel=s.channel.value if s.channel else None,
            extra_transactions=s.extra_transactions,
            outcomes=outcomes,
            wait_days_high=s.wait_days.high,
        )
        if s.kind is StepKind.DECISION:
            for outcome, target in edges:
                routes[(s.id, outcome)] = (target,)
        elif edges:
            routes[(s.id, None)] = tuple(target for _, target in edges)
    start = next((s.id for s in version.steps if s.kind is StepKind.START), "")
    joins = {k: frozenset(v) for k, v in inputs.items() if steps[k].kind is StepKind.JOIN}
    return Flow(version, content_hash, start, steps, routes, joins, outside)


# --------------------------------------------------------------------------- state and commands


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One step instance of a case: ready -> started -> done / cancelled."""

    number: int
    step: str
    status: ItemStatus
    ready_at: dt.datetime
    started_at: dt.datetime | None = None
    done_at: dt.datetime | None = None
    actor: str | None = None
    org: str | None = None
    outcome: str | None = None
    touch_minutes: float | None = None
    escalated: bool = False


@dataclass(frozen=True, slots=True)
class CaseState:
    """Everything the engine needs to decide the next command of one case."""

    case_id: str
    process: str
    version: int
    content_hash: str
    status: RunStatus
    items: tuple[WorkItem, ...]
    arrivals: tuple[tuple[str, tuple[str, ...]], ...]
    """Branches that have reached each waiting join: ``((join, (source, …)), …)``, sorted."""
    seq: int
    """The ``seq`` of the case's last event."""
    started_at: dt.datetime
    finished_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class StartCase:
    case_id: str
    actor: str
    org: str


@dataclass(frozen=True, slots=True)
class BeginStep:
    step: str
    actor: str
    org: str


@dataclass(frozen=True, slots=True)
class CompleteStep:
    step: str
    actor: str
    org: str
    outcome: str | None = None
    touch_minutes: float | None = None


@dataclass(frozen=True, slots=True)
class CancelCase:
    actor: str
    org: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Escalate:
    """Mark open work items overdue (one ``step_escalated`` event each); done by the system."""

    items: tuple[int, ...]
    detail: str | None = None


Command = StartCase | BeginStep | CompleteStep | CancelCase | Escalate


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one command: the new state and the events that led to it."""

    state: CaseState
    events: tuple[Event, ...]


def ready_items(state: CaseState) -> tuple[WorkItem, ...]:
    """Work items waiting for someone to begin them."""
    return tuple(item for item in state.items if item.status is ItemStatus.READY)


def open_items(state: CaseState) -> tuple[WorkItem, ...]:
    """Work items ready or started."""
    return tuple(item for item in state.items if item.status in _OPEN)


# --------------------------------------------------------------------------- applying events


class _Draft:
    """A mutable working copy of a case state; every change goes through :meth:`apply`."""

    __slots__ = (
        "arrivals", "case_id", "events", "finished_at", "flow", "items", "seq", "started_at",
        "status",
    )  # fmt: skip

    def __init__(self, flow: Flow, state: CaseState | None, case_id: str, at: dt.datetime):
        self.flow = flow
        self.case_id = case_id
        self.events: list[Event] = []
        if state is None:
            self.items: list[WorkItem] = []
            self.arrivals: dict[str, frozenset[str]] = {}
            self.seq, self.status, self.started_at = 0, RunStatus.RUNNING, at
            self.finished_at: dt.datetime | None = None
        else:
            self.items = list(state.items)
            self.arrivals = {join: frozenset(src) for join, src in state.arrivals}
            self.seq, self.status, self.started_at = state.seq, state.status, state.started_at
            self.finished_at = state.finished_at

    def emit(self, kind: EventKind, at: dt.datetime, **fields: object) -> None:
        self.seq += 1
        event = Event(self.case_id, self.seq, kind, at, **fields)  # type: ignore[arg-type]
        self.apply(event)
        self.events.append(event)

    def apply(self, e: Event) -> None:
        self.seq = e.seq
        kind = e.kind
        if kind is EventKind.STEP_COMPLETED:
            self._apply_completed(e)
        elif kind is EventKind.HANDOFF:
            return
        elif kind is EventKind.STEP_READY:
            self.items.append(WorkItem(e.item or 0, e.step or "", ItemStatus.READY, e.at))
        elif kind is EventKind.STEP_STARTED:
            n = (e.item or 0) - 1
            item = self.items[n]
            self.items[n] = WorkItem(
                item.number, item.step, ItemStatus.STARTED, item.ready_at, e.at, None, e.actor,
                e.org, None, None, item.escalated,
            )  # fmt: skip
        elif kind is EventKind.STEP_ESCALATED:
            item = self.items[(e.item or 0) - 1]
            self.items[item.number - 1] = replace(item, escalated=True)
        elif kind in (EventKind.CASE_FINISHED, EventKind.CASE_CANCELLED):
            self._close(e)
        elif kind is EventKind.CASE_STARTED:
            self.status, self.started_at = RunStatus.RUNNING, e.at

    def _apply_completed(self, e: Event) -> None:
        number, step = e.item or 0, e.step or ""
        if number > len(self.items):  # an automatic step: ready, started and done at once
            done = WorkItem(number, step, ItemStatus.DONE, e.at, e.at, e.at, e.actor, e.org)
            self.items.append(done)
        else:
            item = self.items[number - 1]
            self.items[number - 1] = WorkItem(
                number,
                step,
                ItemStatus.DONE,
                item.ready_at,
                item.started_at or e.at,
                e.at,
                e.actor,
                e.org,
                e.outcome,
                e.touch_minutes,
                item.escalated,
            )
        flow = self.flow
        if flow.steps[step].kind is StepKind.JOIN:
            self.arrivals.pop(step, None)
        for target in flow.routes.get((step, e.outcome), ()):
            if target in flow.join_inputs:
                self.arrivals[target] = self.arrivals.get(target, frozenset()) | {step}

    def _close(self, e: Event) -> None:
        finished = e.kind is EventKind.CASE_FINISHED
        self.status = RunStatus.FINISHED if finished else RunStatus.CANCELLED
        self.finished_at = e.at
        for i, item in enumerate(self.items):
            if item.status in _OPEN:
                self.items[i] = replace(item, status=ItemStatus.CANCELLED)

    def state(self) -> CaseState:
        flow = self.flow
        arrivals = tuple(sorted((j, tuple(sorted(s))) for j, s in self.arrivals.items() if s))
        return CaseState(
            self.case_id,
            flow.version.process,
            flow.version.version,
            flow.content_hash,
            self.status,
            tuple(self.items),
            arrivals,
            self.seq,
            self.started_at,
            self.finished_at,
        )


# --------------------------------------------------------------------------- deciding


def decide(
    version: Version | Flow,
    state: CaseState | None,
    command: Command,
    *,
    now: dt.datetime,
    outside: frozenset[str] = frozenset(),
) -> Decision:
    """Apply ``command`` to ``state`` at ``now``; return the new state and its events.

    ``outside`` names the outside parties' lanes (ignored when a compiled :class:`Flow` is
    passed). Raises :class:`CommandError` (wrong state, bad outcome), :class:`AccessError`
    (the organisation may not act on the step) or :class:`NotFoundError` (unknown step).
    """
    flow = version if isinstance(version, Flow) else compile_flow(version, outside)
    if isinstance(command, StartCase):
        if state is not None:
            raise CommandError(f"case {state.case_id} already exists")
        draft = _Draft(flow, None, command.case_id, now)
        _start(draft, command, now)
        return Decision(draft.state(), tuple(draft.events))
    if state is None:
        raise CommandError(f"{type(command).__name__} needs a case; start one first")
    if state.status is not RunStatus.RUNNING:
        raise CommandError(f"case {state.case_id} is {state.status.value}; it takes no commands")
    draft = _Draft(flow, state, state.case_id, state.started_at)
    if isinstance(command, BeginStep):
        _begin(draft, command, now)
    elif isinstance(command, CompleteStep):
        _complete(draft, command, now)
    elif isinstance(command, CancelCase):
        draft.emit(
            EventKind.CASE_CANCELLED,
            now,
            actor=command.actor,
            org=command.org,
            detail=command.reason,
        )
    else:
        _escalate(draft, command, now)
    return Decision(draft.state(), tuple(draft.events))


def _start(draft: _Draft, command: StartCase, now: dt.datetime) -> None:
    flow = draft.flow
    if not flow.start:
        raise CommandError(f"{flow.version.key} has no start step")
    start = flow.steps[flow.start]
    draft.emit(
        EventKind.CASE_STARTED,
        now,
        actor=command.actor,
        org=command.org,
        detail=f"{flow.version.key} {flow.content_hash[:12]}",
    )
    draft.emit(
        EventKind.STEP_COMPLETED,
        now,
        step=start.id,
        item=1,
        lane=start.lane,
        actor=command.actor,
        org=command.org,
        transactions=start.extra_transactions,
    )
    _route(draft, start.id, None, now)


def _open_item(draft: _Draft, step_id: str, verb: str) -> WorkItem:
    candidates = [i for i in draft.items if i.step == step_id and i.status in _OPEN]
    if candidates:
        return candidates[0]
    ready = sorted({i.step for i in draft.items if i.status in _OPEN})
    raise CommandError(
        f"cannot {verb} step '{step_id}' of case {draft.case_id}: it is not open; "
        f"open steps: {', '.join(ready) or 'none'}"
    )


def _check_access(draft: _Draft, step_id: str, org: str, verb: str) -> None:
    step = draft.flow.step(step_id)
    if org not in step.allowed:
        raise AccessError(
            f"{org} may not {verb} step '{step_id}' of case {draft.case_id}; "
            f"allowed organisations: {', '.join(sorted(step.allowed))}"
        )


def _begin(draft: _Draft, command: BeginStep, now: dt.datetime) -> None:
    _check_access(draft, command.step, command.org, "begin")
    item = _open_item(draft, command.step, "begin")
    if item.status is ItemStatus.STARTED:
        raise CommandError(
            f"step '{command.step}' of case {draft.case_id} was already begun by "
            f"{item.actor} ({item.org})"
        )
    step = draft.flow.steps[command.step]
    draft.emit(
        EventKind.STEP_STARTED,
        now,
        step=step.id,
        item=item.number,
        lane=step.lane,
        actor=command.actor,
        org=command.org,
    )


def _complete(draft: _Draft, command: CompleteStep, now: dt.datetime) -> None:
    _check_access(draft, command.step, command.org, "complete")
    step = draft.flow.steps[command.step]
    _check_outcome(draft, step, command.outcome)
    if command.touch_minutes is not None and command.touch_minutes < 0:
        raise CommandError(f"touch minutes must be 0 or more, not {command.touch_minutes:g}")
    item = _open_item(draft, step.id, "complete")
    if item.status is ItemStatus.READY:
        draft.emit(
            EventKind.STEP_STARTED,
            now,
            step=step.id,
            item=item.number,
            lane=step.lane,
            actor=command.actor,
            org=command.org,
            detail="implicit",
        )
    draft.emit(
        EventKind.STEP_COMPLETED,
        now,
        step=step.id,
        item=item.number,
        lane=step.lane,
        actor=command.actor,
        org=command.org,
        outcome=command.outcome,
        touch_minutes=command.touch_minutes,
        transactions=step.extra_transactions,
    )
    _route(draft, step.id, command.outcome, now)


def _check_outcome(draft: _Draft, step: FlowStep, outcome: str | None) -> None:
    if step.kind is StepKind.DECISION:
        if outcome not in step.outcomes:
            found = f"outcome '{outcome}'" if outcome else "no outcome"
            raise CommandError(
                f"step '{step.id}' of case {draft.case_id} is a decision and got {found}; "
                f"allowed outcomes: {', '.join(step.outcomes)}"
            )
    elif outcome is not None:
        raise CommandError(
            f"step '{step.id}' of case {draft.case_id} is a {step.kind.value}, not a decision; "
            f"it takes no outcome (got '{outcome}')"
        )


def _escalate(draft: _Draft, command: Escalate, now: dt.datetime) -> None:
    for number in command.items:
        if not 1 <= number <= len(draft.items):
            raise CommandError(f"case {draft.case_id} has no work item {number}")
        item = draft.items[number - 1]
        if item.status in _OPEN and not item.escalated:
            lane = draft.flow.steps[item.step].lane
            draft.emit(
                EventKind.STEP_ESCALATED,
                now,
                step=item.step,
                item=number,
                lane=lane,
                detail=command.detail,
            )


def _route(draft: _Draft, step_id: str, outcome: str | None, now: dt.datetime) -> None:
    """Move the case on from a completed step, completing automatic steps as it goes."""
    flow, emit = draft.flow, draft.emit
    queue: deque[tuple[str, str | None]] = deque([(step_id, outcome)])
    while queue:
        source_id, chosen = queue.popleft()
        source = flow.steps[source_id]
        for target_id in flow.routes.get((source_id, chosen), ()):
            target = flow.steps[target_id]
            if target.lane != source.lane:
                emit(
                    EventKind.HANDOFF,
                    now,
                    from_step=source_id,
                    to_step=target_id,
                    from_lane=source.lane,
                    to_lane=target.lane,
                    channel=source.channel,
                )
            kind = target.kind
            if (
                kind is StepKind.JOIN
                and draft.arrivals.get(target_id) != flow.join_inputs[target_id]
            ):
                continue
            if kind in _AUTOMATIC or kind is StepKind.END:
                emit(
                    EventKind.STEP_COMPLETED,
                    now,
                    step=target_id,
                    item=len(draft.items) + 1,
                    lane=target.lane,
                    org=target.lane,
                    transactions=target.extra_transactions,
                )
                if kind is StepKind.END:
                    emit(EventKind.CASE_FINISHED, now, step=target_id, lane=target.lane)
                    return
                queue.append((target_id, None))
            else:
                emit(
                    EventKind.STEP_READY,
                    now,
                    step=target_id,
                    item=len(draft.items) + 1,
                    lane=target.lane,
                )


# --------------------------------------------------------------------------- replaying


def replay(
    version: Version | Flow, events: Iterable[Event], *, outside: frozenset[str] = frozenset()
) -> CaseState:
    """Rebuild a case's state from its events (in ``seq`` order).

    Raises :class:`CommandError` when the log does not begin with ``case_started``.
    """
    flow = version if isinstance(version, Flow) else compile_flow(version, outside)
    draft: _Draft | None = None
    for event in events:
        if draft is None:
            if event.kind is not EventKind.CASE_STARTED:
                raise CommandError(f"case {event.case_id}: the log must begin with case_started")
            draft = _Draft(flow, None, event.case_id, event.at)
        draft.apply(event)
    if draft is None:
        raise CommandError("cannot replay an empty event log")
    return draft.state()


# --------------------------------------------------------------------------- overdue work

_EPOCH = dt.date(1970, 1, 5)  # a Monday
_DAY_START, _DAY_MINUTES = 8 * 60, 450.0


def working_minutes(at: dt.datetime) -> float:
    """Working minutes (Mon–Fri, 08:00–15:30, no holidays) from a fixed Monday to ``at``.

    The difference of two values is the working time between them:

    >>> friday, monday = dt.datetime(2025, 1, 10, 12), dt.datetime(2025, 1, 13, 12)
    >>> working_minutes(monday) - working_minutes(friday)
    450.0
    """
    weeks, weekday = divmod((at.date() - _EPOCH).days, 7)
    before = weeks * 5 + min(weekday, 5)
    minute = at.hour * 60 + at.minute + at.second / 60 - _DAY_START
    within = 0.0 if weekday >= 5 else min(max(minute, 0.0), _DAY_MINUTES)
    return before * _DAY_MINUTES + within


def overdue_items(
    version: Version | Flow, state: CaseState, *, now: dt.datetime
) -> tuple[int, ...]:
    """Numbers of ready items, not yet escalated, waiting longer than their step allows.

    The limit is the step's ``wait_days.high`` working days, but at least one working day.
    """
    flow = version if isinstance(version, Flow) else compile_flow(version)
    reached = working_minutes(now)
    found = []
    for item in state.items:
        if item.status is not ItemStatus.READY or item.escalated:
            continue
        limit = max(flow.steps[item.step].wait_days_high, 1.0) * _DAY_MINUTES
        if reached - working_minutes(item.ready_at) > limit:
            found.append(item.number)
    return tuple(found)
