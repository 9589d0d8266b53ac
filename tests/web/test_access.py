"""The one rule for seeing a case and acting on its steps (pages and API alike)."""

from __future__ import annotations

import datetime as dt

import pytest

from boflyt.engine.case import bounds
from boflyt.engine.case.decide import compile_flow, open_items
from boflyt.engine.store import commands as store
from boflyt.models.errors import AccessError, NotFoundError
from boflyt.web.access import acting_org, involved_orgs, visible_case
from tests.factories import branching_version

MONDAY = dt.datetime(2025, 1, 6, 9)
SAME = "no such case for your organisations"


def _approved(engine, key, library) -> str:
    """A branching case approved by NAV: the landlord's contract (outside) and NAV's pay open."""
    state = store.start_case(engine, version=branching_version(), ref="ACCESS-1", key=key,
                             actor="ann", org="housing_office", now=MONDAY,
                             lanes=library.lanes)  # fmt: skip
    given = {"case_id": state.case_id, "now": MONDAY, "lanes": library.lanes}
    store.complete_step(engine, step="intake", actor="ann", org="housing_office", **given)
    store.complete_step(engine, step="assess", actor="bo", org="nav", outcome="approve", **given)
    return state.case_id


def test_an_organisation_sees_a_case_it_had_work_in_and_no_other(sqlite_engine, key, library):
    case_id = _approved(sqlite_engine, key, library)
    seen = visible_case(sqlite_engine, case_id, ["accounting", "nav"])
    assert {"housing_office", "nav", "landlord"} <= seen.involved
    assert seen.state.case_id == case_id and seen.events[0].case_id == case_id
    with pytest.raises(NotFoundError) as invisible:
        visible_case(sqlite_engine, case_id, ["accounting"])
    with pytest.raises(NotFoundError) as unknown:
        visible_case(sqlite_engine, "0" * 36, ["nav"])
    with pytest.raises(NotFoundError) as malformed:
        visible_case(sqlite_engine, "01017012345\n" * 20, ["nav"])
    assert str(invisible.value) == str(unknown.value) == str(malformed.value) == SAME


def test_an_office_recording_an_outside_partys_open_step_sees_the_case(sqlite_engine, key,
                                                                        library):  # fmt: skip
    """Where an organisation's only link to a case is an open step it records for an outside
    party, it sees the case (its inbox shows the step)."""
    checked = 0
    for process in library.processes():
        version = library.get(process)
        state = store.start_case(sqlite_engine, version=version, ref=f"OUT-{process}", key=key,
                                 actor="ann", org=_starter(sqlite_engine, version, library),
                                 now=MONDAY, lanes=library.lanes)  # fmt: skip
        flow = store.case_flow(sqlite_engine, state)
        events = store.case_timeline(sqlite_engine, state.case_id)
        named = {n for e in events for n in (e.lane, e.org, e.from_lane, e.to_lane) if n}
        only_open = {org for item in open_items(state) for org in flow.steps[item.step].allowed}
        for org in sorted(only_open - named):
            assert org in visible_case(sqlite_engine, state.case_id, [org]).involved
            step = next(i.step for i in open_items(state) if org in flow.steps[i.step].allowed)
            assert acting_org(flow, step, [org]) == org
            checked += 1
        assert involved_orgs(events, state, flow) == named | only_open
    assert checked  # the shipped library has such a case (the tenant's application)


def _starter(engine, version, library) -> str:
    flow = compile_flow(version, store.outside_lanes(version, library.lanes))
    return sorted(bounds.start_orgs(flow))[0]


def test_the_acting_organisation_is_a_lane_of_the_step_first(sqlite_engine, key, library):
    case_id = _approved(sqlite_engine, key, library)
    flow = visible_case(sqlite_engine, case_id, ["nav"]).flow
    assert acting_org(flow, "pay", ["housing_office", "nav"]) == "nav"
    assert acting_org(flow, "contract", ["accounting", "housing_office"]) == "housing_office"
    with pytest.raises(AccessError, match=r"none of your organisations \(housing_office\) may "
                                          r"act on step 'pay'; allowed: nav"):  # fmt: skip
        acting_org(flow, "pay", ["housing_office"])
    with pytest.raises(NotFoundError, match="has no step with that id; its steps: "):
        acting_org(flow, "nope", ["nav"])
