"""The case engine: a pure state machine over one version's flow graph.

``decide(version, state, command, *, now)`` returns the new state and the events the command
caused; it does no I/O, reads no clock and touches no database. Every state change is made by
applying an event, and :func:`replay` applies the same function to a stored event log, so
replaying a case's events rebuilds exactly the state ``decide`` produced.

Routing is compiled once per version into a :class:`~boflyt.engine.case.flow.Flow` whose named
routes (:mod:`boflyt.engine.case.routes`) say what each completion does; ``decide`` executes
them, which keeps it fast enough for simulation. The commands are in
:mod:`boflyt.engine.case.commands`, the values it works on in :mod:`boflyt.engine.case.state`,
overdue work in :mod:`boflyt.engine.case.overdue`; this module re-exports them for older
imports (the wing's public names are in :mod:`boflyt.engine.case`). Semantics:

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
from collections.abc import Iterable, Sequence
from operator import itemgetter

from boflyt.engine.case.commands import BeginStep as BeginStep
from boflyt.engine.case.commands import CancelCase as CancelCase
from boflyt.engine.case.commands import Command as Command
from boflyt.engine.case.commands import CompleteStep as CompleteStep
from boflyt.engine.case.commands import Escalate as Escalate
from boflyt.engine.case.commands import StartCase as StartCase
from boflyt.engine.case.draft import Draft
from boflyt.engine.case.flow import Flow as Flow
from boflyt.engine.case.flow import FlowStep as FlowStep
from boflyt.engine.case.flow import compile_flow as compile_flow
from boflyt.engine.case.migration import apply_migration
from boflyt.engine.case.overdue import overdue_items as overdue_items
from boflyt.engine.case.overdue import working_minutes as working_minutes
from boflyt.engine.case.routes import MoveKind, Route
from boflyt.engine.case.state import OPEN_STATUSES
from boflyt.engine.case.state import CaseState as CaseState
from boflyt.engine.case.state import Decision as Decision
from boflyt.engine.case.state import WorkItem as WorkItem
from boflyt.engine.case.state import open_items as open_items
from boflyt.engine.case.state import ready_items as ready_items
from boflyt.models.definition import Version
from boflyt.models.errors import AccessError, CommandError
from boflyt.models.events import Event
from boflyt.models.vocabulary import EventKind, ItemStatus, RunStatus, StepKind

__all__ = ["decide", "replay"]

_OPEN = OPEN_STATUSES
_HANDOFF, _READY, _FINISH = MoveKind.HANDOFF, MoveKind.READY, MoveKind.FINISH
_CASE_FINISHED, _CASE_MIGRATED = EventKind.CASE_FINISHED, EventKind.CASE_MIGRATED
_CASE_STARTED = EventKind.CASE_STARTED
_ITEM_READY, _ITEM_STARTED = ItemStatus.READY, ItemStatus.STARTED
_RUNNING, _DECISION = RunStatus.RUNNING, StepKind.DECISION
# Module constants, not ``EnumClass.MEMBER`` in the functions: on Python 3.11 reading an enum
# member from its class costs about ten times a global's lookup, and decide() is the hot path
# of every simulation.
_new = tuple.__new__  # builds a named tuple from its values in field order, in one C call
_STEP_OF = itemgetter(WorkItem._fields.index("step"))  # a work item's step, read in C


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
        draft = Draft(flow, None, command.case_id, now)
        _start(draft, command, now)
        return _new(Decision, (draft.state(), tuple(draft.events)))
    if state is None:
        raise CommandError(f"{type(command).__name__} needs a case; start one first")
    if state.status is not _RUNNING:
        raise CommandError(f"case {state.case_id} is {state.status.value}; it takes no commands")
    draft = Draft(flow, state)
    if isinstance(command, CompleteStep):
        _complete(draft, command, now)
    elif isinstance(command, BeginStep):
        _begin(draft, command, now)
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
    return _new(Decision, (draft.state(), tuple(draft.events)))


def _start(draft: Draft, command: StartCase, now: dt.datetime) -> None:
    flow = draft.flow
    if not flow.start:
        raise CommandError(f"{flow.key} has no start step")
    start = flow.steps[flow.start]
    draft.emit(
        _CASE_STARTED,
        now,
        actor=command.actor,
        org=command.org,
        detail=f"{flow.key} {flow.content_hash[:12]}",
    )
    draft.completed(now, start, 1, command.actor, command.org)
    _follow(draft, flow.routes.get((start.id, None)), now)


def _open_item(draft: Draft, step_id: str, verb: str) -> WorkItem:
    """The first open work item of ``step_id``; :class:`CommandError` listing the open ones.

    The items' steps are searched by ``list.index`` (in C): a case's items grow with every step
    it passes, and a loop in Python over them cost more than the rest of a completion.
    """
    items = draft.items
    steps = list(map(_STEP_OF, items))
    start = 0
    try:
        while True:
            found = steps.index(step_id, start)
            item = items[found]
            if item.status in _OPEN:
                return item
            start = found + 1
    except ValueError:  # no (further) item of the step; suppress() would cost two calls more
        pass
    ready = sorted({i.step for i in items if i.status in _OPEN})
    raise CommandError(
        f"cannot {verb} step '{step_id}' of case {draft.case_id}: it is not open; "
        f"open steps: {', '.join(ready) or 'none'}"
    )


def _allowed_step(draft: Draft, step_id: str, org: str, verb: str) -> FlowStep:
    """The step ``org`` may act on; :class:`AccessError` (or :class:`NotFoundError`) if not."""
    step = draft.flow.steps.get(step_id) or draft.flow.step(step_id)
    if org not in step.allowed:
        raise AccessError(
            f"{org} may not {verb} step '{step_id}' of case {draft.case_id}; "
            f"allowed organisations: {', '.join(sorted(step.allowed))}"
        )
    return step


def _begin(draft: Draft, command: BeginStep, now: dt.datetime) -> None:
    step = _allowed_step(draft, command.step, command.org, "begin")
    item = _open_item(draft, command.step, "begin")
    if item.status is _ITEM_STARTED:
        raise CommandError(
            f"step '{command.step}' of case {draft.case_id} was already begun by "
            f"{item.actor} ({item.org})"
        )
    draft.begun(now, step, item.number, command.actor, command.org, None)


def _complete(draft: Draft, command: CompleteStep, now: dt.datetime) -> None:
    step = _allowed_step(draft, command.step, command.org, "complete")
    if command.outcome is not None or step.kind is _DECISION:
        _check_outcome(draft, step, command.outcome)
    touch = command.touch_minutes
    if touch is not None and touch < 0:
        raise CommandError(f"touch minutes must be 0 or more, not {touch:g}")
    item = _open_item(draft, step.id, "complete")
    number, actor, org = item.number, command.actor, command.org
    if item.status is _ITEM_READY:  # completing a ready item implies beginning it
        draft.begun_to_complete(now, step, number, actor, org)
    draft.completed(now, step, number, actor, org, command.outcome, touch, command.note)
    _follow(draft, draft.flow.routes.get((step.id, command.outcome)), now)


def _check_outcome(draft: Draft, step: FlowStep, outcome: str | None) -> None:
    if step.kind is _DECISION:
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


def _escalate(draft: Draft, command: Escalate, now: dt.datetime) -> None:
    for number in command.items:
        if not 1 <= number <= len(draft.items):
            raise CommandError(f"case {draft.case_id} has no work item {number}")
        item = draft.items[number - 1]
        if item.status in _OPEN and not item.escalated:
            lane = draft.flow.steps[item.step].lane
            draft.emit(
                EventKind.STEP_ESCALATED,
                now,
                item.step,
                number,
                lane,
                detail=command.detail,
            )


def _follow(draft: Draft, route: Route | None, now: dt.datetime) -> None:
    """Execute a completion's route: its moves in order, then, at a join, the route its
    arrivals choose (:meth:`~boflyt.engine.case.routes.Route.after`)."""
    items = draft.items
    while route is not None:
        for kind, step, source in route.moves:
            if kind is _READY:
                draft.ready(now, step)
            elif kind is _HANDOFF:
                draft.handoff(now, source, step)  # type: ignore[arg-type]
            else:
                draft.completed(now, step, len(items) + 1, None, step.lane)
                if kind is _FINISH:
                    draft.emit(_CASE_FINISHED, now, step.id, None, step.lane)
        route = route.after(draft.arrivals) if route.join else None


# --------------------------------------------------------------------------- replaying


def replay(
    version: Version | Flow,
    events: Iterable[Event],
    *,
    outside: frozenset[str] = frozenset(),
    earlier: Sequence[Version | Flow] = (),
) -> CaseState:
    """Rebuild a case's state from its events (in ``seq`` order).

    A case moved between versions (a ``case_migrated`` event,
    :mod:`boflyt.engine.case.migration`) ran on each of ``earlier`` in turn, oldest first,
    before ``version``: its events are applied on the version they were recorded on, and each
    migration applies :func:`~boflyt.engine.case.migration.apply_migration`.

    Raises :class:`CommandError` when the log does not begin with ``case_started``, or has more
    migrations than ``earlier`` names versions.
    """
    flows = [v if isinstance(v, Flow) else compile_flow(v, outside) for v in (*earlier, version)]
    flow = flows.pop(0)
    draft: Draft | None = None
    for event in events:
        if draft is None:
            if event.kind is not _CASE_STARTED:
                raise CommandError(f"case {event.case_id}: the log must begin with case_started")
            draft = Draft(flow, None, event.case_id, event.at)
        if event.kind is _CASE_MIGRATED:
            if not flows:
                raise CommandError(
                    f"case {event.case_id}: event {event.seq} migrates the case, and no later "
                    "version was given to replay it on"
                )
            target = flows.pop(0)
            moved = apply_migration(draft.state(), draft.flow, target, event)
            draft = Draft(target, moved)
            continue
        draft.apply(event)
    if draft is None:
        raise CommandError("cannot replay an empty event log")
    return draft.state()
