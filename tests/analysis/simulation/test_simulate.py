"""The simulator without Prefect: reproducible, the engine's rules, staff, waits, Little's law."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from boflyt.analysis.simulation.cohort import calendar_of, simulate
from boflyt.analysis.simulation.log import log_records
from boflyt.engine.calendar import WorkCalendar, norwegian_holidays
from boflyt.engine.case.decide import compile_flow, replay
from boflyt.models.definition import Lane, LaneCatalog, Text
from boflyt.models.events import EVENT_COLUMNS
from boflyt.models.scenario import Scenario
from boflyt.models.vocabulary import RunStatus
from tests.factories import (
    branching_version,
    decision_version,
    fork,
    linear_version,
    make_version,
)

LANES = LaneCatalog(
    lanes=tuple(
        Lane(id=lane, name=Text(nb=lane, en=lane), outside=lane in {"landlord", "tenant"})
        for lane in ("housing_office", "nav", "landlord", "tenant")
    )
)


def scenario(**changes: object) -> Scenario:
    data: dict[str, object] = {"name": "test", "arrivals_per_week": 10, "start": "2025-01-06"}
    return Scenario.model_validate({**data, **changes})


def test_same_seed_gives_an_identical_log_and_another_seed_does_not() -> None:
    world = scenario(capacity={"nav": 1, "housing_office": 1})
    first = simulate(branching_version(), world, cases=300, seed=11, lanes=LANES)
    again = simulate(branching_version(), world, cases=300, seed=11, lanes=LANES)
    other = simulate(branching_version(), world, cases=300, seed=12, lanes=LANES)
    assert first.events.equals(again.events)
    assert np.array_equal(first.lead_times, again.lead_times)
    assert not first.events.equals(other.events)


@pytest.mark.parametrize(
    "version",
    [linear_version(), branching_version(), decision_version(rework=True, fix_lane="nav")],
    ids=["linear", "branching", "rework"],
)
def test_fast_driver_writes_exactly_what_decide_writes(version) -> None:
    """The fast path follows the engine's routing; every row must equal decide()'s."""
    world = scenario(capacity={"nav": 2, "housing_office": 1})
    fast = simulate(version, world, cases=150, seed=5, lanes=LANES, chunks=2)
    engine = simulate(version, world, cases=150, seed=5, lanes=LANES, chunks=2, driver="engine")
    assert fast.events.columns == [*EVENT_COLUMNS, "process", "version", "mode"]
    assert fast.events.equals(engine.events)


def test_drivers_agree_when_work_follows_a_join_and_people_are_scarce() -> None:
    """Items numbered after a join, joint steps, queues and cases that end mid-work."""
    version = make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "split", "kind": "parallel"},
            {"id": "a", "kind": "task", "lane": "nav", "touch_minutes": [30, 300]},
            {"id": "b", "kind": "task", "joint_with": ["nav"], "touch_minutes": [10, 400]},
            {"id": "join", "kind": "join"},
            {"id": "check", "kind": "decision", "lane": "nav", "touch_minutes": [5, 50]},
            {"id": "redo", "kind": "task", "touch_minutes": [20, 60], "wait_days": 0},
            {"id": "end", "kind": "end", "lane": "nav"},
        ],
        [
            {"from": "start", "to": "split"},
            *fork("split", ("a", "b"), "join"),
            {"from": "join", "to": "check"},
            {"from": "check", "to": "redo", "outcome": "again", "probability": 0.4},
            {"from": "check", "to": "end", "outcome": "ok", "probability": 0.6},
            {"from": "redo", "to": "check", "rework": True},
        ],
    )
    world = scenario(arrivals_per_week=40, capacity={"nav": 2, "housing_office": 1})
    fast = simulate(version, world, cases=120, seed=9, lanes=LANES)
    engine = simulate(version, world, cases=120, seed=9, lanes=LANES, driver="engine")
    assert fast.events.equals(engine.events)
    assert fast.occupancy.equals(engine.occupancy)
    checks = fast.events.filter(pl.col("step") == "check", pl.col("kind") == "step_ready")
    assert checks["item"].min() == 6  # start 1, split 2, a 3, b 4, join 5
    assert fast.occupancy["queue"].max() > 0


def test_the_log_replays_to_finished_cases_in_the_store_shape() -> None:
    version = branching_version()
    result = simulate(version, scenario(), cases=50, seed=2, lanes=LANES)
    states, events = log_records(result.events, compile_flow(version, frozenset({"landlord"})))
    assert len(states) == 50 and len(events) == result.events.height
    assert all(state.status is RunStatus.FINISHED for state in states)
    assert set(result.events["mode"]) == {"simulated"}
    first = [e for e in events if e.case_id == states[0].case_id]
    assert replay(version, first, outside=frozenset({"landlord"})) == states[0]


def test_fixed_durations_give_the_hand_computed_lead_time() -> None:
    # a: wait 1 day + 30 min; b: wait 2 days + 60 min -> 3 days + 90 min = 3.2 working days
    result = simulate(linear_version(), scenario(), cases=40, seed=1)
    assert np.allclose(result.lead_times, 3.2)
    completed = result.events.filter(pl.col("kind") == "step_completed", pl.col("step") == "b")
    assert completed["touch_minutes"].to_list() == [60.0] * 40
    assert result.events.height == 40 * 11  # started, 3 completions (+end), 2x ready/started, …


def test_one_person_makes_cases_queue_and_ten_do_not() -> None:
    version = make_version(
        [
            {"id": "start", "kind": "start", "lane": "nav"},
            {"id": "work", "kind": "task", "lane": "nav", "touch_minutes": [60, 120]},
            {"id": "end", "kind": "end", "lane": "nav"},
        ],
        [{"from": "start", "to": "work"}, {"from": "work", "to": "end"}],
    )
    busy = scenario(arrivals_per_week=30, capacity={"nav": 1})  # load 30 x 90 min / 2250 = 1.2
    ample = scenario(arrivals_per_week=30, capacity={"nav": 10})
    queued = simulate(version, busy, cases=400, seed=3)
    free = simulate(version, ample, cases=400, seed=3)
    assert queued.lead_times.mean() > 10 * free.lead_times.mean()
    assert queued.occupancy["queue"].max() > 5
    assert free.occupancy["queue"].max() < 0.5
    assert queued.utilisation()["nav"] > 0.9
    assert free.utilisation()["nav"] == pytest.approx(queued.utilisation()["nav"] / 10, rel=0.3)


def test_outside_parties_use_no_staff_and_are_recorded_by_an_organisation() -> None:
    version = decision_version(p_complete=0.5, fix_lane="tenant")
    world = scenario(arrivals_per_week=50, capacity={"housing_office": 1, "nav": 1})
    result = simulate(version, world, cases=200, seed=4, lanes=LANES)
    assert set(result.occupancy["lane"]) == {"housing_office", "nav"}
    fix = result.events.filter(pl.col("step") == "fix_docs")
    assert set(fix.filter(pl.col("kind") == "step_started")["org"]) == {"housing_office"}
    # no staff to wait for: every fix_docs item starts exactly at the end of its wait (2..8 d)
    ready = fix.filter(pl.col("kind") == "step_ready").select("case_id", "item", ready="at")
    started = fix.filter(pl.col("kind") == "step_started").select("case_id", "item", go="at")
    cal = calendar_of(world)
    waits = ready.join(started, on=["case_id", "item"]).select(
        (cal.minutes_expr("go") - cal.minutes_expr("ready")) / 450.0
    )
    assert waits.height > 50
    assert waits.to_series().is_between(2.0 - 1e-6, 8.0 + 1e-6).all()


def test_parallel_branches_run_at_the_same_time() -> None:
    version = branching_version()
    overrides = {"pay": {"touch_minutes": 900}, "contract": {"wait_days": 1, "touch_minutes": 60}}
    world = scenario(
        arrivals_per_week=1, capacity={"nav": 3, "housing_office": 3}, overrides=overrides
    )
    events = simulate(version, world, cases=60, seed=8, lanes=LANES).events
    work = events.filter(pl.col("step").is_in(["contract", "pay"]), pl.col("kind") != "step_ready")
    spans = work.pivot("kind", index=["case_id", "step"], values="at").pivot(
        "step", index="case_id", values=["step_started", "step_completed"]
    )
    began = {s: pl.col(f"step_started_{s}") for s in ("pay", "contract")}
    ended = {s: pl.col(f"step_completed_{s}") for s in ("pay", "contract")}
    overlapping = spans.filter(began["contract"] < ended["pay"], began["pay"] < ended["contract"])
    assert spans.height > 20
    assert overlapping.height == spans.height


def test_scenario_overrides_replace_a_steps_durations() -> None:
    world = scenario(
        overrides={"a": {"touch_minutes": 123, "wait_days": 0}, "gone": {"wait_days": 1}}
    )
    events = simulate(linear_version(), world, cases=30, seed=1).events
    done_a = events.filter(pl.col("kind") == "step_completed", pl.col("step") == "a")
    assert done_a["touch_minutes"].to_list() == [123.0] * 30
    ready_a = events.filter(pl.col("kind") == "step_ready", pl.col("step") == "a")["at"]
    started_a = events.filter(pl.col("kind") == "step_started", pl.col("step") == "a")["at"]
    assert ready_a.to_list() == started_a.to_list()


def test_littles_law_holds_in_steady_state() -> None:
    """Mean WIP ≈ arrival rate x mean lead time, over the middle of a long run."""
    world = scenario(arrivals_per_week=25, capacity={"nav": 4, "housing_office": 3})
    result = simulate(branching_version(), world, cases=4000, seed=21, lanes=LANES)
    days = result.wip.height
    middle = result.wip.slice(days // 5, days * 3 // 5)["wip"].mean()
    per_day = world.arrivals_per_week / len(world.working_days)
    expected = per_day * float(np.mean(result.lead_times))
    assert middle == pytest.approx(expected, rel=0.1)


def test_progress_reports_finished_cases_up_to_the_total() -> None:
    seen: list[int] = []
    simulate(linear_version(), scenario(), cases=250, seed=1, chunks=2, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 250


def test_stamps_skip_nights_weekends_and_holidays() -> None:
    calendar = WorkCalendar(holidays=norwegian_holidays([2025]))
    # Wed 16 April 2025; Thursday 17 to Monday 21 are Easter holidays or weekend
    minutes = np.array([0.0, 450.0, 451.0, 900.0 + 30.0])
    got = calendar.stamp(dt.date(2025, 4, 16), minutes).astype("datetime64[m]").tolist()
    assert got == [
        dt.datetime(2025, 4, 16, 8, 0),
        dt.datetime(2025, 4, 16, 15, 30),
        dt.datetime(2025, 4, 22, 8, 1),
        dt.datetime(2025, 4, 23, 8, 30),
    ]
    for m in minutes:
        assert calendar.to_datetime(dt.date(2025, 4, 16), float(m)).replace(second=0) in got
