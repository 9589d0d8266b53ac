"""Discovery: drafting a version from an event log (hand-made logs and simulated seed logs)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from boflyt.analysis.discovery import FACILITATOR, discover, discover_before, first_part, lane_id
from boflyt.analysis.observed import complete_columns
from boflyt.analysis.simulation.cohort import simulate
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.engine.definition.validate import validate
from boflyt.models.definition import Version
from boflyt.models.vocabulary import StepKind

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
LIBRARY = load_library(PROCESSES)
SEEDS = [v for p in LIBRARY.processes() for v in LIBRARY.versions(p)]
MONDAY = dt.datetime(2025, 1, 6, 8)

Trace = list[tuple[str, str | None, float]]
"""(activity, organisation, working hours after the case's start) of each completion."""


def log_of(traces: dict[str, Trace], *, touch: dict[str, float] | None = None) -> pl.DataFrame:
    """An imported-style event frame: case_started, then each completion (same day hours)."""
    rows = []
    for case, trace in traces.items():
        rows.append({"case_id": case, "seq": 1, "kind": "case_started", "at": MONDAY})
        for seq, (step, org, hours) in enumerate(trace, start=2):
            day, hour = divmod(hours, 7.5)
            at = MONDAY + dt.timedelta(days=int(day), hours=hour)
            rows.append({"case_id": case, "seq": seq, "kind": "step_completed", "at": at,
                         "step": step, "lane": org,
                         "touch_minutes": (touch or {}).get(step)})  # fmt: skip
    frame = complete_columns(pl.DataFrame(rows, infer_schema_length=None))
    return frame.with_columns(process=pl.lit("p"), version=pl.lit(0), mode=pl.lit("imported"))


def transitions(version: Version) -> dict[tuple[str, str], tuple[float | None, bool]]:
    return {(t.source, t.target): (t.probability, t.rework) for t in version.transitions}


# -- hand-made logs ---------------------------------------------------------------------------

LOOP = [("check", "Desk", 1), ("fix", "Desk", 2), ("check", "Desk", 3), ("decide", "Board 1", 9)]
CHECKS: dict[str, Trace] = {
    "c1": [("check", "Desk", 1), ("decide", "Board 1", 5)],
    "c2": [
        ("check", "Desk", 1),
        ("fix", "Desk", 2),
        ("check", "Desk", 3),
        ("decide", "Board 1", 9),
    ],
    "c3": [("check", "Desk", 2), ("decide", "Board 1", 4)],
    "c4": [("check", "Desk", 0.5), ("rare", "Desk", 1), ("decide", "Board 1", 8)],
    "c5": [
        ("check", "Desk", 1),
        ("fix", "Desk", 2),
        ("check", "Desk", 3),
        ("decide", "Board 1", 9),
    ],
}


def test_a_hand_log_gives_steps_lanes_decisions_and_rework() -> None:
    draft = discover(log_of(CHECKS), process="p", threshold=0.3)
    version = draft.version()
    assert [(s.id, s.kind, s.lane) for s in version.steps] == [
        ("start", StepKind.START, "desk"),
        ("check", StepKind.DECISION, "desk"),
        ("fix", StepKind.TASK, "desk"),
        ("decide", StepKind.TASK, "board_1"),
        ("end", StepKind.END, "board_1"),
    ]
    assert transitions(version) == {
        ("start", "check"): (None, False),
        ("check", "decide"): (0.7143, False),  # 5 of the 7 times check is followed
        ("check", "fix"): (0.2857, False),
        ("fix", "check"): (None, True),
        ("decide", "end"): (None, False),
    }
    assert [(o.activity, o.cases) for o in draft.left_out] == [("rare", 1)]
    assert [(lane.id, lane.name.en) for lane in draft.lanes] == [
        ("desk", "Desk"), ("board_1", "Board 1")
    ]  # fmt: skip
    assert validate(version, lanes=draft.lane_catalog(LIBRARY.lanes)) == []


def test_waits_are_p10_p90_of_working_days_since_the_previous_completion() -> None:
    draft = discover(log_of(CHECKS), process="p", threshold=0.3)
    decide = next(s for s in draft.version().steps if s.id == "decide")
    # decide waits 4, 6, 2, 7.5 and 6 working hours (c4's rare step is left out: 8 - 0.5).
    waits = pl.Series([4 / 7.5, 6 / 7.5, 2 / 7.5, 7.5 / 7.5, 6 / 7.5])
    assert decide.wait_days.low == pytest.approx(waits.quantile(0.1, "linear"), abs=0.005)
    assert decide.wait_days.high == pytest.approx(waits.quantile(0.9, "linear"), abs=0.005)


def test_touch_time_is_only_known_from_start_events_and_the_rest_is_for_the_facilitator() -> None:
    draft = discover(log_of(CHECKS, touch={"fix": 20.0}), process="p", threshold=0.3)
    steps = {s.id: s for s in draft.version().steps}
    assert steps["fix"].touch_minutes.low == steps["fix"].touch_minutes.high == 20.0
    assert steps["check"].touch_minutes.mean == 0
    assert "touch_minutes unknown" in (steps["check"].note or "")
    assert "touch_minutes unknown" not in (steps["fix"].note or "")
    for step in ("check", "fix", "decide"):
        assert steps[step].value is None and steps[step].wastes == ()
        assert FACILITATOR in (steps[step].note or "")


def test_cases_beginning_differently_get_a_first_activity_decision() -> None:
    traces = {"a": [("x", "Unit", 1), ("y", "Unit", 2)], "b": [("y", "Unit", 1)]}
    version = discover(log_of(traces), process="p").version()
    assert transitions(version) == {
        ("start", "first_activity"): (None, False),
        ("first_activity", "x"): (0.5, False),
        ("first_activity", "y"): (0.5, False),
        ("x", "y"): (None, False),
        ("y", "end"): (None, False),
    }


def test_a_repeat_is_a_rework_self_loop() -> None:
    traces = {
        "a": [("x", "U", 1), ("x", "U", 2), ("y", "U", 3)],
        "b": [("x", "U", 1), ("y", "U", 2)],
    }
    version = discover(log_of(traces), process="p").version()
    assert transitions(version)[("x", "x")] == (pytest.approx(1 / 3, abs=1e-4), True)
    assert validate(version, lanes=discover(log_of(traces), process="p").lane_catalog(
        LIBRARY.lanes)) == []  # fmt: skip


def test_a_rare_edge_is_dropped_unless_a_step_needs_it() -> None:
    often = {f"c{i}": [("x", "U", 1), ("y", "U", 2)] for i in range(30)}
    rare = {"r": [("x", "U", 1), ("z", "U", 2), ("y", "U", 3)], "s": [("z", "U", 1)]}
    draft = discover(log_of(often | rare), process="p", threshold=0.05, edge_threshold=0.1)
    edges = transitions(draft.version())
    assert ("x", "z") not in edges  # 1 of 31 leaving x, and z is reached from the start anyway
    assert ("start", "first_activity") in edges and ("first_activity", "z") in edges
    assert ("x", "z", 1) in draft.dropped_edges
    assert ("z", "y") in edges or ("z", "end") in edges


def test_thresholds_outside_0_to_1_are_refused() -> None:
    with pytest.raises(ValueError, match=r"threshold must lie in 0\.\.1, not 1\.5"):
        discover(log_of(CHECKS), process="p", threshold=1.5)


def test_the_first_part_keeps_cases_started_before_the_cut() -> None:
    log = log_of(CHECKS).with_columns(
        pl.when(pl.col("case_id") == "c4").then(pl.col("at") + dt.timedelta(days=30))
        .otherwise(pl.col("at")).alias("at")
    )  # fmt: skip
    cut = MONDAY + dt.timedelta(days=10)
    assert sorted(first_part(log, cut)["case_id"].unique()) == ["c1", "c2", "c3", "c5"]
    draft = discover_before(log, cut, process="p", threshold=0.3)
    assert draft.cases == 4 and draft.left_out == ()  # c4 and its rare step come later


def test_lane_ids_of_organisations() -> None:
    assert [lane_id(o) for o in ("nav", "Group 4", "Økonomi & regnskap", "1 A")] == [
        "nav", "group_4", "okonomi_regnskap", "x_1_a"
    ]  # fmt: skip


# -- simulated logs of the seed library -------------------------------------------------------


def simulated(version: Version, cases: int) -> pl.DataFrame:
    scenario = load_scenario(
        LIBRARY.scenario_path(version.process), version=version, lanes=LIBRARY.lanes
    )
    return simulate(version, scenario, cases=cases, seed=3, lanes=LIBRARY.lanes).events


def test_a_simulated_log_gives_back_its_version() -> None:
    original = LIBRARY.get("private_lease", 1)
    log = simulated(original, 400)
    found = discover(log, process="private_lease", number=3, edge_threshold=0.0).version()
    assert [(s.id, s.lane) for s in found.steps] == [(s.id, s.lane) for s in original.steps]
    assert {s.id for s in found.steps if s.kind is StepKind.DECISION} == {
        s.id for s in original.steps if s.kind is StepKind.DECISION
    }
    designed = transitions(original)
    assert set(transitions(found)) == set(designed)
    for edge, (p, rework) in transitions(found).items():
        assert rework == designed[edge][1], edge
        if p is not None:
            assert p == pytest.approx(designed[edge][0], abs=0.1), edge
    steps = {s.id: s for s in original.steps}
    for step in found.steps:  # p10..p90 of uniform touch times lie inside the design's range
        if step.kind is StepKind.TASK and steps[step.id].touch_minutes.high > 0:
            assert steps[step.id].touch_minutes.low <= step.touch_minutes.low
            assert step.touch_minutes.high <= steps[step.id].touch_minutes.high
    main = set(transitions(discover(log, process="private_lease", number=3).version()))
    assert {e for e, (p, _) in designed.items() if (p or 1.0) >= 0.1} <= main <= set(designed)


@pytest.mark.parametrize("version", SEEDS, ids=lambda v: v.key)
@pytest.mark.parametrize("threshold", [0.0, 0.05, 0.3])
def test_every_draft_of_a_seed_log_validates(version: Version, threshold: float) -> None:
    draft = discover(simulated(version, 150), process=version.process, number=9,
                     threshold=threshold, edge_threshold=threshold)  # fmt: skip
    assert validate(draft.version(), lanes=draft.lane_catalog(LIBRARY.lanes)) == []
