"""The pure case engine: routing, refusals, and Hypothesis invariants over random walks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boflyt.engine.case.decide import (
    BeginStep,
    CancelCase,
    CaseState,
    CompleteStep,
    Escalate,
    StartCase,
    compile_flow,
    decide,
    open_items,
    overdue_items,
    ready_items,
    replay,
    working_minutes,
)
from boflyt.engine.definition.load import load_library
from boflyt.models.definition import Version
from boflyt.models.errors import AccessError, CommandError, NotFoundError
from boflyt.models.events import Event
from boflyt.models.vocabulary import EventKind, ItemStatus, RunStatus, StepKind
from tests.factories import (
    BRANCHING_OUTSIDE,
    branching_version,
    linear_version,
    outcome_towards_an_end,
)

MONDAY = dt.datetime(2025, 1, 6, 9, 0)
HO, NAV = "housing_office", "nav"


def _run(version, commands, outside=BRANCHING_OUTSIDE, case_id="c1"):
    """Start a case and apply ``commands``; return the final state and every event."""
    decision = decide(version, None, StartCase(case_id, "ann", HO), now=MONDAY, outside=outside)
    state, events = decision.state, list(decision.events)
    for n, command in enumerate(commands, start=1):
        decision = decide(version, state, command, now=MONDAY + dt.timedelta(hours=n),
                          outside=outside)  # fmt: skip
        state, events = decision.state, events + list(decision.events)
    return state, events


def _kinds(events):
    return [e.kind.value for e in events]


def test_starting_completes_the_start_step_and_readies_the_first_task():
    state, events = _run(linear_version(), [])
    assert _kinds(events) == ["case_started", "step_completed", "step_ready"]
    assert [(i.number, i.step, i.status) for i in state.items] == [
        (1, "start", ItemStatus.DONE),
        (2, "a", ItemStatus.READY),
    ]
    assert ready_items(state) == (state.items[1],)


def test_a_lane_change_is_a_handoff_with_lanes_steps_and_channel():
    version = branching_version()
    _, events = _run(version, [CompleteStep("intake", "ann", HO)])
    handoff = [e for e in events if e.kind is EventKind.HANDOFF]
    assert [(h.from_step, h.to_step, h.from_lane, h.to_lane, h.channel) for h in handoff] == [
        ("intake", "assess", HO, NAV, "email")
    ]
    completed = [e for e in events if e.kind is EventKind.STEP_COMPLETED and e.step == "intake"]
    assert completed[0].transactions == 1
    assert handoff[0].at == completed[0].at == MONDAY + dt.timedelta(hours=1)


def test_completing_a_ready_step_implies_beginning_it():
    _, events = _run(linear_version(), [CompleteStep("a", "ann", HO, touch_minutes=20)])
    started = [e for e in events if e.kind is EventKind.STEP_STARTED]
    assert [(e.step, e.detail) for e in started] == [("a", "implicit")]


def test_a_decision_needs_one_of_its_own_outcomes():
    version = branching_version()
    state, _ = _run(version, [CompleteStep("intake", "ann", HO)])
    allowed = "allowed outcomes: approve, reject, more_info"
    with pytest.raises(CommandError, match=f"got outcome 'maybe'; {allowed}"):
        decide(version, state, CompleteStep("assess", "bo", NAV, "maybe"), now=MONDAY)
    with pytest.raises(CommandError, match=f"got no outcome; {allowed}"):
        decide(version, state, CompleteStep("assess", "bo", NAV), now=MONDAY)
    with pytest.raises(CommandError, match="is a task, not a decision"):
        decide(version, _run(version, [])[0], CompleteStep("intake", "a", HO, "ok"), now=MONDAY)


def test_only_the_owning_joint_or_recording_lanes_may_act():
    version = branching_version()
    state, _ = _run(version, [CompleteStep("intake", "ann", HO)])
    with pytest.raises(AccessError, match=r"accounting may not complete step 'assess'.*"
                       "allowed organisations: housing_office, nav"):  # fmt: skip
        decide(version, state, CompleteStep("assess", "x", "accounting", "approve"), now=MONDAY)
    joint = decide(version, state, CompleteStep("assess", "ann", HO, "approve"), now=MONDAY,
                   outside=BRANCHING_OUTSIDE)  # fmt: skip
    assert joint.state.items[2].org == HO
    flow = compile_flow(version, BRANCHING_OUTSIDE)
    assert flow.steps["contract"].allowed == {HO, NAV, "landlord"}  # an outside lane's wait
    assert flow.steps["pay"].allowed == {NAV}
    with pytest.raises(NotFoundError, match="has no step 'nope'"):
        decide(version, state, BeginStep("nope", "x", HO), now=MONDAY)


def test_rework_makes_a_new_item_and_no_item_completes_twice():
    state, events = _run(
        branching_version(),
        [CompleteStep("intake", "ann", HO), CompleteStep("assess", "bo", NAV, "more_info"),
         CompleteStep("fix", "ann", HO), CompleteStep("assess", "bo", NAV, "reject")],
    )  # fmt: skip
    assessed = [i for i in state.items if i.step == "assess"]
    assert [(i.number, i.outcome) for i in assessed] == [(3, "more_info"), (5, "reject")]
    done = [e.item for e in events if e.kind is EventKind.STEP_COMPLETED]
    assert len(done) == len(set(done))
    assert state.status is RunStatus.FINISHED
    assert state.items[-1].step == "end_rejected"


def test_a_join_waits_for_every_branch():
    version = branching_version()
    approved = [CompleteStep("intake", "ann", HO), CompleteStep("assess", "bo", NAV, "approve")]
    state, _ = _run(version, [*approved, CompleteStep("pay", "bo", NAV)])
    assert state.status is RunStatus.RUNNING
    assert state.arrivals == (("join", ("pay",)),)
    assert [i.step for i in open_items(state)] == ["contract"]
    state, events = _run(version, [*approved, CompleteStep("pay", "bo", NAV),
                                   CompleteStep("contract", "ann", HO)])  # fmt: skip
    assert state.status is RunStatus.FINISHED
    assert state.arrivals == ()
    assert [i.step for i in state.items[-3:]] == ["join", "archive", "end"]
    assert _kinds(events)[-1] == "case_finished"


def test_begin_then_complete_and_no_second_begin():
    version = linear_version()
    state, _ = _run(version, [BeginStep("a", "ann", HO)])
    assert state.items[1].status is ItemStatus.STARTED
    with pytest.raises(CommandError, match="already begun by ann"):
        decide(version, state, BeginStep("a", "bea", HO), now=MONDAY)
    with pytest.raises(CommandError, match=r"step 'b' .* is not open; open steps: a"):
        decide(version, state, CompleteStep("b", "bo", NAV), now=MONDAY)


def test_cancelled_and_finished_cases_refuse_everything():
    version = linear_version()
    state, events = _run(version, [CancelCase("ann", HO, "moved away")])
    assert state.status is RunStatus.CANCELLED
    assert state.items[1].status is ItemStatus.CANCELLED
    assert events[-1].detail == "moved away"
    with pytest.raises(CommandError, match="is cancelled; it takes no commands"):
        decide(version, state, CompleteStep("a", "ann", HO), now=MONDAY)
    done, _ = _run(version, [CompleteStep("a", "ann", HO), CompleteStep("b", "bo", NAV)])
    with pytest.raises(CommandError, match="is finished"):
        decide(version, done, CancelCase("ann", HO), now=MONDAY)
    with pytest.raises(CommandError, match="already exists"):
        decide(version, done, StartCase("c1", "ann", HO), now=MONDAY)


def test_working_minutes_skip_nights_and_weekends():
    friday_noon = dt.datetime(2025, 1, 10, 12, 0)
    assert working_minutes(dt.datetime(2025, 1, 13, 12)) - working_minutes(friday_noon) == 450
    assert working_minutes(dt.datetime(2025, 1, 11, 20)) - working_minutes(friday_noon) == 210
    assert working_minutes(dt.datetime(2025, 1, 10, 7)) == working_minutes(
        dt.datetime(2025, 1, 9, 23)
    )


def test_overdue_items_and_escalation():
    version = branching_version()
    state, _ = _run(version, [CompleteStep("intake", "ann", HO)])  # assess ready Mon 10:00
    assert overdue_items(version, state, now=dt.datetime(2025, 1, 9, 10, 0)) == ()
    assert overdue_items(version, state, now=dt.datetime(2025, 1, 9, 10, 1)) == (3,)
    escalated = decide(version, state, Escalate((3,)), now=MONDAY).state
    assert escalated.items[2].escalated
    assert overdue_items(version, escalated, now=dt.datetime(2025, 2, 1)) == ()
    assert decide(version, escalated, Escalate((3,)), now=MONDAY).events == ()


# --------------------------------------------------------------------------- invariants

LIBRARY = load_library(Path(__file__).resolve().parents[3] / "processes")
LIBRARY_OUTSIDE = frozenset(lane.id for lane in LIBRARY.lanes.lanes if lane.outside)
VERSIONS: list[tuple[Version, frozenset[str]]] = [
    (linear_version(), frozenset()),
    (branching_version(), BRANCHING_OUTSIDE),
    *((v, LIBRARY_OUTSIDE) for p in LIBRARY.processes() for v in LIBRARY.versions(p)),
]


@st.composite
def walks(draw, version: Version, outside: frozenset[str]):
    """Random staff commands on one case: begin/complete any open item, sometimes cancel."""
    flow = compile_flow(version, outside)
    commands = []
    state = decide(flow, None, StartCase("c", "ann", HO), now=MONDAY).state
    for n in range(draw(st.integers(1, 60))):
        items = open_items(state)
        if state.status is not RunStatus.RUNNING or not items:
            break
        if draw(st.integers(0, 50)) == 0:
            command = CancelCase("ann", HO)
        else:
            item = draw(st.sampled_from(items))
            step = flow.steps[item.step]
            org = draw(st.sampled_from(sorted(step.allowed)))
            outcome = draw(st.sampled_from(step.outcomes)) if step.outcomes else None
            begin = item.status is ItemStatus.READY and draw(st.booleans())
            command = (BeginStep(step.id, "x", org) if begin
                       else CompleteStep(step.id, "x", org, outcome, float(n)))  # fmt: skip
        commands.append(command)
        state = decide(flow, state, command, now=MONDAY + dt.timedelta(hours=n)).state
    return commands


def _cross_lane_transitions(version: Version, events: list[Event]) -> int:
    """Lane changes along the path taken, counted from the definition, not from the engine."""
    lane = {s.id: s.lane for s in version.steps}
    kind = {s.id: s.kind for s in version.steps}
    count = 0
    for event in events:
        if event.kind is not EventKind.STEP_COMPLETED:
            continue
        for t in version.transitions:
            taken = t.outcome == event.outcome if kind[t.source] is StepKind.DECISION else True
            if t.source == event.step and taken and lane[t.target] != lane[t.source]:
                count += 1
    return count


def _check_invariants(version: Version, outside, commands, state: CaseState, events) -> None:
    if state.status is RunStatus.FINISHED:
        last = [e for e in events if e.kind is EventKind.STEP_COMPLETED][-1]
        assert version.step(last.step).kind is StepKind.END
        assert not open_items(state)
    completed = [e.item for e in events if e.kind is EventKind.STEP_COMPLETED]
    assert len(completed) == len(set(completed))
    handoffs = sum(e.kind is EventKind.HANDOFF for e in events)
    assert handoffs == _cross_lane_transitions(version, events)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert replay(version, events, outside=outside) == state
    again_state, again_events = _run(version, commands, outside, case_id="c")
    assert (again_state, again_events) == (state, events)


@pytest.mark.parametrize("version, outside", VERSIONS, ids=lambda v: getattr(v, "key", ""))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_invariants_hold_on_random_walks(version, outside, data):
    commands = data.draw(walks(version, outside))
    state, events = _run(version, commands, outside, case_id="c")
    _check_invariants(version, outside, commands, state, events)


def test_every_library_process_can_run_to_an_end():
    assert len(VERSIONS) >= 4, "the process library should hold the seed processes"
    for version, outside in VERSIONS:
        flow = compile_flow(version, outside)
        state = decide(flow, None, StartCase("c", "ann", HO), now=MONDAY).state
        for n in range(200):
            if state.status is not RunStatus.RUNNING:
                break
            item = open_items(state)[0]
            step = flow.steps[item.step]
            outcome = outcome_towards_an_end(version, step.id) if step.outcomes else None
            org = sorted(step.allowed)[0]
            command = CompleteStep(step.id, "x", org, outcome)
            state = decide(flow, state, command, now=MONDAY).state
        assert state.status is RunStatus.FINISHED, version.key
