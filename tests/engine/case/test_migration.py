"""Planning and migrating a running case between versions (pure): the rules of issue 15."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Mapping
from pathlib import Path

import pytest

from boflyt.engine.case import bounds
from boflyt.engine.case.decide import (
    BeginStep,
    CompleteStep,
    StartCase,
    compile_flow,
    decide,
    open_items,
    replay,
)
from boflyt.engine.case.flow import Flow
from boflyt.engine.case.migration import (
    WARNING_CODES,
    MigrationWarning,
    apply_migration,
    check_mapping,
    migrate_case,
    parse_detail,
    plan_case,
)
from boflyt.engine.case.state import CaseState
from boflyt.engine.definition.load import load_library
from boflyt.engine.store.versions import outside_lanes
from boflyt.models.errors import CommandError
from boflyt.models.events import Event
from boflyt.models.vocabulary import EventKind, ItemStatus, RunStatus, StepKind
from boflyt.models.words import ENGLISH, Language
from tests.factories import chain, fork, make_version

T0 = dt.datetime(2025, 3, 3, 9, 0)
ROOT = Path(__file__).resolve().parents[3]
SEED = ("eviction_prevention", "private_lease", "refugee_settlement")

SEED_MAPS: dict[str, dict[str, str]] = {
    "eviction_prevention": {
        "send_reminder": "arrears_list",
        "collection_notice": "contact_tenant",
        "transfer_to_collection_agency": "contact_tenant",
        "eviction_warning": "combined_notices",
        "notify_nav_letter": "nav_warm_handoff",
        "nav_register_notice": "nav_warm_handoff",
        "nav_register_copy": "nav_warm_handoff",
        "apply_financial_aid": "nav_warm_handoff",
        "tenant_sends_documents": "nav_warm_handoff",
        "withdraw_petition": "serve_petition",
        "temporary_accommodation": "carry_out_eviction",
    },
    "private_lease": {
        "apply_on_paper": "apply_digital",
        "nav_register_assess": "joint_assessment",
        "nav_refer_by_email": "joint_assessment",
        "ho_register_applicant": "joint_assessment",
        "applicant_sends_documents": "joint_assessment",
        "negotiate_lease_terms": "sign_head_lease",
        "nav_preapprove_rent": "sign_head_lease",
        "manager_sign_off": "sign_head_lease",
        "register_supplier": "generate_finance_records",
        "landlord_corrects_account": "generate_finance_records",
        "register_resident_account": "generate_finance_records",
        "apply_housing_allowance": "rent_cycle",
        "reconcile_payments": "rent_cycle",
    },
    "refugee_settlement": {
        "read_profile": "settlement_team_match",
        "ask_for_dwelling": "settlement_team_match",
        "check_vacancy": "settlement_team_match",
        "answer_imdi": "settlement_team_match",
        "log_and_forward": "imdi_settlement_decision",
        "allocate_dwelling": "make_ready",
        "supply_missing_information": "nav_startup_decision",
        "register_settlement_date": "arrival",
        "housing_allowance_nav": "arrival",
        "correct_rent_mismatch": "first_rent_cycle",
    },
}
"""For each seed process, where work on a v1 step that v2 no longer has moves to."""

Walk = tuple[tuple[str, str | None, str], ...]
"""Completions (step, outcome, organisation) that bring a new case to a position."""


def walks(flow: Flow) -> tuple[str, dict[str, Walk]]:
    """The organisation that starts a case, and for each step a case can stand on the
    shortest completions that open it (breadth first over the flow, pure ``decide``)."""
    org = sorted(bounds.start_orgs(flow))[0]
    first = decide(flow, None, StartCase("walk", "kari", org), now=T0).state
    found: dict[str, Walk] = {}
    queue: deque[tuple[CaseState, Walk]] = deque([(first, ())])
    seen: set[object] = set()
    while queue:
        state, path = queue.popleft()
        items = open_items(state)
        for item in items:
            found.setdefault(item.step, path)
        signature = (tuple(sorted(i.step for i in items)), state.arrivals)
        if signature in seen or len(path) > 40:
            continue
        seen.add(signature)
        for item in items:
            step = flow.steps[item.step]
            for outcome in step.outcomes or (None,):
                command = CompleteStep(item.step, "kari", step.lane, outcome)
                after = decide(flow, state, command, now=T0).state
                if after.status is RunStatus.RUNNING:
                    queue.append((after, (*path, (item.step, outcome, step.lane))))
    return org, found


def drive(flow: Flow, org: str, walk: Walk, case_id: str = "c1") -> tuple[CaseState, list[Event]]:
    """A case driven along ``walk`` with pure ``decide``: its state and every event."""
    decision = decide(flow, None, StartCase(case_id, "kari", org), now=T0)
    state, events = decision.state, list(decision.events)
    for n, (step, outcome, lane) in enumerate(walk, 1):
        at = T0 + dt.timedelta(hours=n)
        decision = decide(flow, state, CompleteStep(step, "kari", lane, outcome), now=at)
        state, events = decision.state, [*events, *decision.events]
    return state, events


def seed_flows(process: str) -> tuple[Flow, Flow]:
    library = load_library(ROOT / "processes")
    v1, v2 = library.get(process, 1), library.get(process, 2)
    return (
        compile_flow(v1, outside_lanes(v1, library.lanes)),
        compile_flow(v2, outside_lanes(v2, library.lanes)),
    )


def assert_valid_on(state: CaseState, target: Flow) -> None:
    """A state the target version can carry on from: its version, work steps only, joins that
    wait for the target's branches, and a command that the target decides."""
    assert (state.version, state.content_hash) == (target.version.version, target.content_hash)
    assert state.status is RunStatus.RUNNING
    items = open_items(state)
    assert items
    for item in items:
        assert target.steps[item.step].kind in (StepKind.TASK, StepKind.DECISION, StepKind.WAIT)
    for join, sources in state.arrivals:
        assert set(sources) < target.join_inputs[join]
    step = target.steps[items[0].step]
    command = CompleteStep(step.id, "kari", step.lane, (step.outcomes or (None,))[0])
    later = state.seq and max(i.ready_at for i in state.items) + dt.timedelta(days=1)
    after = decide(target, state, command, now=later)
    assert after.state.seq > state.seq


def _pair(v1_steps, v1_edges, v2_steps, v2_edges, **kw) -> tuple[Flow, Flow]:
    lanes = ("housing_office", "nav")
    one = make_version(v1_steps, v1_edges, lanes=lanes, **kw)
    two = make_version(v2_steps, v2_edges, lanes=lanes, version=2, **kw)
    return compile_flow(one), compile_flow(two)


def _linear_pair(**v2_lanes: str) -> tuple[Flow, Flow]:
    """start → a → b → end in v1; v2 the same with ``a`` and ``b`` in the lanes given."""
    steps = [{"id": "start", "kind": "start"}, {"id": "a", "kind": "task"},
             {"id": "b", "kind": "task", "lane": "nav"}, {"id": "end", "kind": "end"}]  # fmt: skip
    moved = [{**s, "lane": v2_lanes.get(s["id"], s.get("lane", "housing_office"))} for s in steps]
    return _pair(steps, chain("start", "a", "b", "end"), moved, chain("start", "a", "b", "end"))


def test_an_unchanged_step_moves_as_it_is_and_replay_rebuilds_the_state():
    v1, v2 = _linear_pair()
    state, events = drive(v1, "housing_office", ())
    plan = plan_case(state, v1, v2)
    assert (plan.now, plan.after, plan.warnings, plan.refused) == (("a",), ("a",), (), None)
    moved, new = migrate_case(state, v1, v2, actor="owner", now=T0 + dt.timedelta(hours=1))
    assert [e.kind for e in new] == [EventKind.CASE_MIGRATED]
    assert new[0].seq == state.seq + 1 and new[0].actor == "owner"
    assert moved.items[-1] is state.items[-1]  # same lane, same work item, nothing re-opened
    assert replay(v2, [*events, *new], earlier=[v1]) == moved
    assert_valid_on(moved, v2)


def test_a_replay_without_the_earlier_version_says_what_is_missing():
    v1, v2 = _linear_pair()
    state, events = drive(v1, "housing_office", ())
    _, new = migrate_case(state, v1, v2, actor="owner", now=T0)
    with pytest.raises(CommandError, match="no later version"):
        replay(v1, [*events, *new])


def test_a_case_on_a_step_the_new_version_lacks_is_refused_unless_mapped():
    v1, _ = _linear_pair()
    steps = [{"id": "start", "kind": "start"}, {"id": "a2", "kind": "task"},
             {"id": "b", "kind": "task", "lane": "nav"}, {"id": "end", "kind": "end"}]  # fmt: skip
    v2 = compile_flow(make_version(steps, chain("start", "a2", "b", "end"), version=2))
    state, events = drive(v1, "housing_office", ())
    refused = plan_case(state, v1, v2)
    assert refused.refused is not None
    assert "step 'a'" in refused.refused and "--map a=STEP" in refused.refused
    with pytest.raises(CommandError, match="cannot move"):
        migrate_case(state, v1, v2, actor="owner", now=T0)
    plan = plan_case(state, v1, v2, {"a": "a2"})
    assert (plan.after, plan.refused) == (("a2",), None)
    assert MigrationWarning("step_mapped", "a", ("a2",)) in plan.warnings
    moved, new = migrate_case(state, v1, v2, {"a": "a2"}, actor="owner", now=T0)
    assert parse_detail(new[0].detail) == (v1.version.key, v2.version.key, {"a": "a2"})
    assert moved.items[-1].step == "a2" and moved.items[-1].status is ItemStatus.READY
    assert replay(v2, [*events, *new], earlier=[v1]) == moved


def test_a_mapping_must_name_steps_of_both_versions():
    v1, v2 = _linear_pair()
    with pytest.raises(CommandError, match="has no step 'x'"):
        check_mapping(v1, v2, {"x": "a"})
    with pytest.raises(CommandError, match="'end' is a end step"):
        check_mapping(v1, v2, {"a": "end"})
    with pytest.raises(CommandError, match="'zz' is no such step"):
        check_mapping(v1, v2, {"a": "zz"})


def test_work_in_progress_in_another_organisation_is_reopened_there():
    v1, v2 = _linear_pair(a="nav")
    state, events = drive(v1, "housing_office", ())
    begun = decide(v1, state, _begin("a", "housing_office"), now=T0 + dt.timedelta(hours=1))
    state, events = begun.state, [*events, *begun.events]
    assert state.items[-1].status is ItemStatus.STARTED
    plan = plan_case(state, v1, v2)
    assert plan.warnings == (
        MigrationWarning("reopened_elsewhere", "a", ("housing_office", "nav")),
    )
    assert "re-opened in nav" in plan.warnings[0].text(ENGLISH)
    when = T0 + dt.timedelta(days=2)
    moved, new = migrate_case(state, v1, v2, actor="owner", now=when)
    item = moved.items[-1]
    assert (item.status, item.ready_at, item.actor, item.org) == (
        ItemStatus.READY,
        when,
        None,
        None,
    )
    assert replay(v2, [*events, *new], earlier=[v1]) == moved
    assert_valid_on(moved, v2)


def _begin(step: str, org: str) -> BeginStep:
    return BeginStep(step, "kari", org)


def test_a_passed_step_that_is_gone_and_data_never_collected_are_warned():
    steps = [{"id": "start", "kind": "start"}, {"id": "a", "kind": "task"},
             {"id": "b", "kind": "task", "lane": "nav"}, {"id": "end", "kind": "end"}]  # fmt: skip
    new = [{"id": "start", "kind": "start"},
           {"id": "intake", "kind": "task", "registers": ["income", "household"]},
           {"id": "b", "kind": "task", "lane": "nav", "registers": ["consent"]},
           {"id": "end", "kind": "end"}]  # fmt: skip
    v1, v2 = _pair(
        steps, chain("start", "a", "b", "end"), new, chain("start", "intake", "b", "end")
    )
    state, _ = drive(v1, "housing_office", (("a", None, "housing_office"),))
    plan = plan_case(state, v1, v2)
    assert plan.refused is None and plan.after == ("b",)
    assert MigrationWarning("passed_step_removed", "a") in plan.warnings
    missing = MigrationWarning("uncollected_data", "intake", ("income", "household"))
    assert missing in plan.warnings
    assert "income, household" in missing.text(ENGLISH)
    assert all(w.step != "b" for w in plan.warnings if w.code == "uncollected_data")  # ahead


def test_a_join_whose_branches_change_is_warned_and_its_arrivals_kept_or_dropped():
    v1_steps = [{"id": "start", "kind": "start"}, {"id": "split", "kind": "parallel"},
                {"id": "x", "kind": "task"}, {"id": "y", "kind": "task", "lane": "nav"},
                {"id": "join", "kind": "join"}, {"id": "end", "kind": "end"}]  # fmt: skip
    v2_steps = [*v1_steps[:4], {"id": "z", "kind": "task"}, *v1_steps[4:]]
    v1, v2 = _pair(
        v1_steps, [*chain("start", "split"), *fork("split", ("x", "y"), "join"),
                   *chain("join", "end")],
        v2_steps, [*chain("start", "split"), *fork("split", ("x", "y", "z"), "join"),
                   *chain("join", "end")],
    )  # fmt: skip
    state, events = drive(v1, "housing_office", (("x", None, "housing_office"),))
    assert state.arrivals == (("join", ("x",)),)
    plan = plan_case(state, v1, v2)
    assert MigrationWarning("join_changed", "join", ("x, y", "x, y, z")) in plan.warnings
    moved, new = migrate_case(state, v1, v2, actor="owner", now=T0 + dt.timedelta(hours=2))
    assert moved.arrivals == (("join", ("x",)),)
    assert replay(v2, [*events, *new], earlier=[v1]) == moved
    # back the other way: z's branch is not waited for any more, x's arrival stays
    state2, _ = drive(v2, "housing_office", (("z", None, "housing_office"),))
    back = plan_case(state2, v2, v1)
    assert any(w.code == "join_changed" for w in back.warnings)
    moved2, _ = migrate_case(state2, v2, v1, actor="owner", now=T0 + dt.timedelta(hours=2))
    assert moved2.arrivals == ()


def test_only_a_running_case_of_the_source_version_moves():
    v1, v2 = _linear_pair()
    state, _ = drive(v1, "housing_office", ())
    done = state._replace(status=RunStatus.FINISHED)
    assert "only running cases move" in (plan_case(done, v1, v2).refused or "")
    assert "runs on test_process@v1, not test_process@v2" in (
        plan_case(state, v2, v1).refused or ""
    )


def test_the_event_must_name_the_versions_it_moves_between():
    v1, v2 = _linear_pair()
    state, _ = drive(v1, "housing_office", ())
    _, new = migrate_case(state, v1, v2, actor="owner", now=T0)
    with pytest.raises(CommandError, match="not test_process@v2 to test_process@v1"):
        apply_migration(state, v2, v1, new[0])
    with pytest.raises(CommandError, match="not the detail"):
        parse_detail("p@v1")


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_every_warning_has_a_sentence_in_every_language(lang: str):
    for code in WARNING_CODES:
        text = MigrationWarning(code, "step_x", ("one", "two")).text(Language(lang))
        assert "step_x" in text and "{" not in text


@pytest.mark.parametrize("process", SEED)
def test_every_seed_v1_position_plans_and_migrates_to_a_valid_v2_state(process: str):
    v1, v2 = seed_flows(process)
    org, found = walks(v1)
    work = [s.id for s in v1.version.steps if s.kind in (StepKind.TASK, StepKind.DECISION,
                                                          StepKind.WAIT)]  # fmt: skip
    assert set(work) <= set(found), f"no walk reaches {set(work) - set(found)}"
    mapping: Mapping[str, str] = SEED_MAPS[process]
    for step in work:
        state, events = drive(v1, org, found[step], case_id=f"case_{step}")
        assert step in {i.step for i in open_items(state)}
        unmapped = plan_case(state, v1, v2)
        gone = [s for s in {i.step for i in open_items(state)} if s not in v2.steps]
        assert (unmapped.refused is not None) == bool(gone), step
        plan = plan_case(state, v1, v2, mapping)
        assert plan.refused is None, (step, plan.refused)
        assert step in plan.now
        for warning in plan.warnings:
            assert warning.text(ENGLISH) and warning.text(Language("nb"))
        when = T0 + dt.timedelta(days=30)
        moved, new = migrate_case(state, v1, v2, mapping, actor="owner", now=when)
        assert tuple(i.step for i in open_items(moved)) == plan.after
        assert replay(v2, [*events, *new], earlier=[v1]) == moved
        assert_valid_on(moved, v2)


def test_the_seed_plans_say_what_a_person_should_know():
    v1, v2 = seed_flows("private_lease")
    org, found = walks(v1)
    state, _ = drive(v1, org, found["register_supplier"])
    plan = plan_case(state, v1, v2, SEED_MAPS["private_lease"])
    codes = {w.code for w in plan.warnings}
    assert {"passed_step_removed", "step_mapped", "uncollected_data"} <= codes
    removed = {w.step for w in plan.warnings if w.code == "passed_step_removed"}
    assert "apply_on_paper" in removed
