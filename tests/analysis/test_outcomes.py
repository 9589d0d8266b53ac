"""Outcome metrics designed from the graph, and from event logs (simulated and hand-made)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from boflyt.analysis.chain import parallel_blocks
from boflyt.analysis.design import design_metrics, expected_visits
from boflyt.analysis.observed import complete_columns
from boflyt.analysis.outcomes import designed_outcomes, logged_outcomes, outcome_table
from boflyt.analysis.simulation.cohort import simulate
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.models.definition import OutcomeMetric, Version
from boflyt.models.vocabulary import StepKind
from tests.factories import linear_version, make_version

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
LIBRARY = load_library(PROCESSES)
SEEDS = [v for p in LIBRARY.processes() for v in LIBRARY.versions(p)]


def metric(key: str, measure: str, *steps: str) -> OutcomeMetric:
    return OutcomeMetric.model_validate(
        {"id": key, "name": {"nb": key, "en": key}, "measure": measure, "steps": steps}
    )


def declaring(version: Version, *metrics: OutcomeMetric) -> Version:
    return version.model_copy(update={"outcome_metrics": metrics})


def figures(version: Version) -> dict[str, float | None]:
    return {f.metric: f.value for f in designed_outcomes(version)}


# --- designed --------------------------------------------------------------------------------


def test_time_to_a_step_adds_the_waits_and_touch_before_it_and_its_own_wait() -> None:
    version = declaring(
        linear_version(), metric("to_b", "time_to", "b"), metric("to_end", "time_to", "end")
    )
    found = figures(version)
    assert found["to_b"] == pytest.approx(1 + 30 / 450 + 2)  # a's wait and touch, b's wait
    assert found["to_end"] == pytest.approx(3.2)  # the whole lead time


@pytest.mark.parametrize("version", SEEDS, ids=[v.key for v in SEEDS])
def test_time_to_any_end_is_the_design_lead_time(version: Version) -> None:
    ends = [s.id for s in version.steps if s.kind is StepKind.END]
    found = figures(
        declaring(version, metric("ended", "share", *ends), metric("lead", "time_to", *ends))
    )
    assert found["ended"] == pytest.approx(1.0)
    assert found["lead"] == pytest.approx(design_metrics(version)["lead_days"], rel=1e-9)


@pytest.mark.parametrize("version", SEEDS, ids=[v.key for v in SEEDS])
def test_share_of_a_step_visited_at_most_once_is_its_expected_visits(version: Version) -> None:
    visits = expected_visits(version)
    inside = set().union(*(b.inside for b in parallel_blocks(version)))
    once = [s for s, n in visits.items() if 0 < n < 1 - 1e-9 and s not in inside]
    assert once
    for step in once:
        found = figures(declaring(version, metric("x", "share", step)))["x"]
        loops = any(t.rework for t in version.transitions if step in (t.source, t.target))
        if not loops:
            assert found == pytest.approx(visits[step], rel=1e-9), step


def test_a_step_inside_a_parallel_branch_is_reached_with_its_branch() -> None:
    version = LIBRARY.get("refugee_settlement", 2)
    found = figures(
        declaring(
            version,
            metric("furniture", "share", "buy_furniture"),
            metric("to_furniture", "time_to", "buy_furniture"),
            metric("to_lease", "time_to", "draft_lease"),
        )
    )
    assert found["furniture"] == pytest.approx(1.0)
    assert found["to_furniture"] is not None and found["to_lease"] is not None
    assert 0 < found["to_furniture"] < found["to_lease"]


def test_a_step_no_case_reaches_has_share_zero_and_no_time() -> None:
    version = make_version(
        [{"id": "start", "kind": "start"}, {"id": "check", "kind": "decision", "wait_days": 1},
         {"id": "never", "kind": "task"}, {"id": "end", "kind": "end"}],
        [{"from": "start", "to": "check"},
         {"from": "check", "to": "never", "outcome": "odd", "probability": 0.0},
         {"from": "check", "to": "end", "outcome": "usual", "probability": 1.0},
         {"from": "never", "to": "end"}],
    )  # fmt: skip
    found = designed_outcomes(
        declaring(version, metric("share", "share", "never"), metric("time", "time_to", "never"))
    )
    assert [(f.metric, f.value, f.reach, f.cases) for f in found] == [
        ("share", 0.0, 0.0, None),
        ("time", None, 0.0, None),
    ]


def test_eviction_outcomes_match_the_readme_and_the_domain_notes() -> None:
    """README: evicted 0.099 / 0.015, petition 0.398 / 0.04; the domain notes' outcome table:
    first NAV contact ≈ 60–90 wd before LEAN, ≈ 4–10 wd after."""
    before = figures(LIBRARY.get("eviction_prevention", 1))
    after = figures(LIBRARY.get("eviction_prevention", 2))
    assert before["evicted"] == pytest.approx(0.0988, abs=5e-4)
    assert before["petition"] == pytest.approx(0.3976, abs=5e-4)
    assert after["evicted"] == pytest.approx(0.015)
    assert after["petition"] == pytest.approx(0.04)
    assert 60 <= (before["first_nav_contact"] or 0) <= 90
    assert 4 <= (after["first_nav_contact"] or 0) <= 10
    assert before["evicted"] / before["petition"] == pytest.approx(0.25, abs=0.01)  # Oslo 2019


def test_every_seed_version_declares_outcome_metrics_shared_by_its_versions() -> None:
    for process in LIBRARY.processes():
        keys = [tuple(m.id for m in v.outcome_metrics) for v in LIBRARY.versions(process)]
        assert keys[0] and all(k == keys[0] for k in keys), process


# --- from event logs ---------------------------------------------------------------------------

MON = dt.datetime(2025, 1, 6, 8, 0)  # a Monday, 08:00


def event(case: str, seq: int, kind: str, days: float, **fields: Any) -> dict[str, Any]:
    """An event ``days`` working days after Monday 08:00 (within the week)."""
    whole, part = divmod(days, 1)
    when = MON + dt.timedelta(days=whole, minutes=part * 450)
    return {"case_id": case, "seq": seq, "kind": kind, "at": when, **fields}


def hand_log() -> pl.DataFrame:
    rows = [
        # c1 (live) reaches b: work on b begins 2.5 wd after the start (completed with 45 touch).
        event("c1", 1, "case_started", 0),
        event("c1", 2, "step_completed", 1, step="a", touch_minutes=30.0),
        event("c1", 3, "step_ready", 1, step="b"),
        event("c1", 4, "step_completed", 2.6, step="b", touch_minutes=45.0),
        event("c1", 5, "case_finished", 2.6, step="end"),
        # c2 (live) ends without b.
        event("c2", 1, "case_started", 0),
        event("c2", 2, "step_completed", 1, step="a", touch_minutes=30.0),
        event("c2", 3, "case_finished", 1, step="end"),
        # c3 (live) is still running: left out.
        event("c3", 1, "case_started", 0),
        event("c3", 2, "step_started", 0.5, step="b"),
        # c4 (simulated) reaches b with a start event: 1 wd.
        event("c4", 1, "case_started", 0),
        event("c4", 2, "step_started", 1, step="b"),
        event("c4", 3, "step_completed", 1.2, step="b", touch_minutes=90.0),
        event("c4", 4, "case_finished", 1.2, step="end"),
    ]
    frame = complete_columns(pl.DataFrame(rows, infer_schema_length=None))
    modes = {"c1": "live", "c2": "live", "c3": "live", "c4": "simulated"}
    return frame.with_columns(
        process=pl.lit("test_process"),
        version=pl.lit(1),
        mode=pl.col("case_id").replace_strict(modes),
    )


def test_logged_outcomes_count_finished_cases_per_mode() -> None:
    version = declaring(linear_version(), metric("b", "share", "b"), metric("to_b", "time_to", "b"))
    found = {(f.metric, f.source): f for f in logged_outcomes(hand_log(), version)}
    assert set(found) == {
        ("b", "live"),
        ("to_b", "live"),
        ("b", "simulated"),
        ("to_b", "simulated"),
    }
    live = found[("to_b", "live")]
    assert (live.cases, live.reached, live.reach) == (2, 1, 0.5)
    assert live.value == pytest.approx(2.5)  # completed at 2.6 wd less 45 min = 0.1 wd
    assert found[("b", "live")].value == 0.5
    assert found[("to_b", "simulated")].value == pytest.approx(1.0)
    assert found[("b", "simulated")].value == 1.0


def test_logged_outcomes_ignore_other_versions_and_need_the_columns() -> None:
    version = declaring(linear_version(), metric("b", "share", "b"))
    assert logged_outcomes(hand_log().with_columns(version=pl.lit(2)), version) == []
    with pytest.raises(ValueError, match="lacks column"):
        logged_outcomes(hand_log().drop("mode"), version)


def test_outcome_table_puts_the_designed_figure_first() -> None:
    version = declaring(linear_version(), metric("b", "share", "b"))
    rows = outcome_table(version, logged_outcomes(hand_log(), version))
    assert [(m.id, [f.source for f in fs]) for m, fs in rows] == [
        ("b", ["designed", "live", "simulated"])
    ]


@pytest.mark.parametrize("key", ["eviction_prevention@v1", "eviction_prevention@v2"])
def test_simulated_outcomes_agree_with_the_design(key: str) -> None:
    process, number = key.split("@v")
    version = LIBRARY.get(process, int(number))
    scenario = load_scenario(LIBRARY.scenario_path(process), version=version, lanes=LIBRARY.lanes)
    events = simulate(version, scenario, cases=1500, seed=5, lanes=LIBRARY.lanes).events
    logged = {f.metric: f for f in logged_outcomes(events, version)}
    for designed in designed_outcomes(version):
        sim = logged[designed.metric]
        assert sim.source == "simulated" and sim.cases == 1500
        assert designed.reach is not None and sim.reach is not None
        spread = math.sqrt(designed.reach * (1 - designed.reach) / 1500)
        assert abs(sim.reach - designed.reach) < 4 * spread + 1e-9, designed.metric
        if designed.measure == "time_to":  # queueing for staff only adds time
            assert designed.value is not None and sim.value is not None
            assert 0.9 * designed.value < sim.value < 1.15 * designed.value
