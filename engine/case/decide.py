"""The case engine: a pure state machine over one version's flow graph.

``decide(version, state, command, *, now)`` returns the new state and the events the command
caused; it does no I/O, reads no clock and touches no database. Every state change is made by
applying an event, and :func:`replay` applies the same function to a stored event log, so
replaying a case's events rebuilds exactly the state ``decide`` produced.

Routing is compiled once per version into a :class:`~boflyt.engine.case.flow.Flow` (plain dicts and
tuples, cached by content hash), which keeps ``decide`` fast enough for simulation. The values
it works on (state, work items, commands) are in :mod:`boflyt.engine.case.state` and overdue work in
:mod:`boflyt.engine.case.overdue`; this module re-exports them all. Semantics:

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
from collections.abc import Iterable

from boflyt.engine.case.draft import Draft
from boflyt.engine.case.flow import Flow, FlowStep, compile_flow
from boflyt.engine.case.overdue import overdue_items, working_minutes
from boflyt.engine.case.state import (
    OPEN_STATUSES,
    BeginStep,
    CancelCase,
    CaseState,
    Command,
    CompleteStep,
    Decision,
    Escalate,
    StartCase,
    WorkItem,
    open_items,
    ready_items,
)
from boflyt.models.definition import Version
from boflyt.models.errors import AccessError, CommandError
from boflyt.models.events import Event
from boflyt.models.vocabulary import EventKind, ItemStatus, RunStatus, StepKind

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
_OPEN = OPEN_STATUSES
_new = tuple.__new__  # builds a named tuple from its values in field order, in one C call


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
    if state.status is not RunStatus.RUNNING:
        raise CommandError(f"case {state.case_id} is {state.status.value}; it takes no commands")
    draft = Draft(flow, state, state.case_id, state.started_at)
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
        start.id,
        1,
        start.lane,
        actor=command.actor,
        org=command.org,
        transactions=start.extra_transactions,
    )
    _route(draft, start.id, None, now)


def _open_item(draft: Draft, step_id: str, verb: str) -> WorkItem:
    """The first open work item of ``step_id``; :class:`CommandError` listing the open ones."""
    for item in draft.items:
        if item.step == step_id and item.status in _OPEN:
            return item
    ready = sorted({i.step for i in draft.items if i.status in _OPEN})
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
    if item.status is ItemStatus.STARTED:
        raise CommandError(
            f"step '{command.step}' of case {draft.case_id} was already begun by "
            f"{item.actor} ({item.org})"
        )
    draft.emit(
        EventKind.STEP_STARTED,
        now,
        step.id,
        item.number,
        step.lane,
        actor=command.actor,
        org=command.org,
    )


def _complete(draft: Draft, command: CompleteStep, now: dt.datetime) -> None:
    step = _allowed_step(draft, command.step, command.org, "complete")
    if command.outcome is not None or step.kind is StepKind.DECISION:
        _check_outcome(draft, step, command.outcome)
    if command.touch_minutes is not None and command.touch_minutes < 0:
        raise CommandError(f"touch minutes must be 0 or more, not {command.touch_minutes:g}")
    item = _open_item(draft, step.id, "complete")
    if item.status is ItemStatus.READY:
        draft.emit(
            EventKind.STEP_STARTED,
            now,
            step.id,
            item.number,
            step.lane,
            command.actor,
            command.org,
            detail="implicit",
        )
    # positional, in Event's field order: this is the hot path of every simulation
    draft.emit(
        EventKind.STEP_COMPLETED,
        now,
        step.id,
        item.number,
        step.lane,
        command.actor,
        command.org,
        command.outcome,
        command.touch_minutes,
        step.extra_transactions,
    )
    _route(draft, step.id, command.outcome, now)


def _check_outcome(draft: Draft, step: FlowStep, outcome: str | None) -> None:
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


def _route(draft: Draft, step_id: str, outcome: str | None, now: dt.datetime) -> None:
    """Move the case on from a completed step, completing automatic steps as it goes."""
    flow, emit = draft.flow, draft.emit
    steps, routes = flow.steps, flow.routes
    queue: list[tuple[str, str | None]] = [(step_id, outcome)]  # first in, first out
    for source_id, chosen in queue:  # the loop takes the steps appended while it runs
        source = steps[source_id]
        for target_id in routes.get((source_id, chosen), ()):
            target = steps[target_id]
            if target.lane != source.lane:
                draft.handoff(now, source, target)
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
                    target_id,
                    len(draft.items) + 1,
                    target.lane,
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
                    target_id,
                    len(draft.items) + 1,
                    target.lane,
                )


# --------------------------------------------------------------------------- replaying


def replay(
    version: Version | Flow, events: Iterable[Event], *, outside: frozenset[str] = frozenset()
) -> CaseState:
    """Rebuild a case's state from its events (in ``seq`` order).

    Raises :class:`CommandError` when the log does not begin with ``case_started``.
    """
    flow = version if isinstance(version, Flow) else compile_flow(version, outside)
    draft: Draft | None = None
    for event in events:
        if draft is None:
            if event.kind is not EventKind.CASE_STARTED:
                raise CommandError(f"case {event.case_id}: the log must begin with case_started")
            draft = Draft(flow, None, event.case_id, event.at)
        draft.apply(event)
    if draft is None:
        raise CommandError("cannot replay an empty event log")
    return draft.state()
