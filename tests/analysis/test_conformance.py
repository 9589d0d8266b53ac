"""Conformance of run sets against a version: first deviations, fitness, deviations by step."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from boflyt.analysis.conformance import conformance
from boflyt.analysis.simulation.cohort import simulate
from boflyt.analysis.step_pairs import allowed_pairs, skipped_steps
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.models.definition import Version
from tests.factories import branching_version, chain, linear_version, make_version, plain_steps

LIBRARY = load_library(Path(__file__).resolve().parents[2] / "processes")
SEEDS = [(p, v) for p in ("private_lease", "eviction_prevention", "refugee_settlement")
         for v in (1, 2)]  # fmt: skip


def paths(
    runs: dict[str, list[str]],
    *,
    finished: tuple[str, ...] = (),
    process: str = "test_process",
    version: int = 1,
) -> pl.DataFrame:
    """A log of completed steps (``runs``: case → steps in order), and case_finished events of
    the ``finished`` cases."""
    rows = [
        (case, seq, "step_completed", step)
        for case, steps in runs.items()
        for seq, step in enumerate(steps, start=1)
    ]
    rows += [(case, len(runs[case]) + 1, "case_finished", None) for case in finished]
    frame = pl.DataFrame(rows, schema=["case_id", "seq", "kind", "step"], orient="row")
    return frame.with_columns(process=pl.lit(process), version=pl.lit(version)).sort(
        "case_id", "seq"
    )


def simulated(process: str, number: int, cases: int = 60) -> pl.DataFrame:
    version = LIBRARY.get(process, number)
    scenario = load_scenario(LIBRARY.scenario_path(process), version=version, lanes=LIBRARY.lanes)
    return simulate(version, scenario, cases=cases, seed=4, lanes=LIBRARY.lanes).events


HAND = {
    "c1": ["start", "a", "b", "end"],  # as designed
    "c2": ["start", "b", "end"],  # a skipped
    "c3": ["start", "a", "x", "b", "end"],  # x: no step of the version
    "c4": ["a"],  # an imported run (no engine steps) that finished after a: b skipped
    "c5": ["a"],  # the same, still running: nothing missing yet
    "c6": ["b", "a"],  # the wrong way round, finished
}


def hand_result() -> pl.DataFrame:
    log = paths(HAND, finished=("c1", "c2", "c3", "c4", "c6"))
    return conformance(log, linear_version()).cases


def test_each_run_gets_its_moves_and_fitness() -> None:
    cases = {row["case_id"]: row for row in hand_result().iter_rows(named=True)}
    figures = {c: (r["steps"], r["log_moves"], r["model_moves"], r["fitness"]) for c, r in
               cases.items()}  # fmt: skip
    assert figures == {
        "c1": (2, 0, 0, 1.0),
        "c2": (1, 0, 1, pytest.approx(1 - 1 / 2)),
        "c3": (3, 1, 0, pytest.approx(1 - 1 / 3)),  # x counted once: b is checked against a
        "c4": (1, 0, 1, pytest.approx(1 - 1 / 2)),
        "c5": (1, 0, 0, 1.0),
        # '' → b skips a; then a is a log move (the run stays at b, as in an alignment), and b
        # is one pair from the end: 2 moves of 2 + 1
        "c6": (2, 1, 1, pytest.approx(1 - 2 / 3)),
    }


def test_the_first_deviation_says_where_and_which_move() -> None:
    first = hand_result().filter(pl.col("move").is_not_null())
    assert first.select("case_id", "position", "from_step", "to_step", "move").rows() == [
        ("c2", 2, "start", "b", "model"),
        ("c3", 3, "a", "x", "log"),
        ("c4", 2, "a", "end", "model"),  # one past the last step: the end it never reached
        ("c6", 1, "", "b", "model"),
    ]


def test_the_summary_counts_conforming_runs_and_mean_fitness() -> None:
    result = conformance(paths(HAND, finished=("c1", "c2", "c3", "c4", "c6")), linear_version())
    assert (result.runs, result.conforming) == (6, 2)
    assert result.mean_fitness == pytest.approx((1 + 0.5 + 2 / 3 + 0.5 + 1 + 1 / 3) / 6)
    assert result.deviations.columns == ["case_id", "position", "from_step", "to_step"]
    assert result.as_dict()["mean_fitness"] == result.mean_fitness


def test_deviations_by_step_count_first_deviations_and_both_moves() -> None:
    result = conformance(paths(HAND, finished=("c1", "c2", "c3", "c4", "c6")), linear_version())
    assert result.steps is not None
    assert result.steps.rows() == [
        # step, first, log moves, model moves, most common unexpected predecessor, its count
        ("a", 0, 1, 2, "b", 1),  # skipped by c2 and c6; done after b by c6
        ("b", 2, 0, 1, "", 1),  # c2 and c6 begin their deviations here; c4 never did b
        ("end", 1, 0, 0, "a", 1),  # c4 finished at a
        ("x", 1, 1, 0, "a", 1),  # not a step of the version: listed after its steps
    ]


def test_a_step_done_late_is_one_log_move_and_the_run_stays_where_it_was() -> None:
    version = make_version(plain_steps(start="start", a="task", b="task", c="task", end="end"),
                           chain("start", "a", "b", "c", "end"))  # fmt: skip
    late = conformance(paths({"late": ["a", "c", "b"]}, finished=("late",)), version)
    assert late.cases is not None
    # a → c skips b; b after c is a log move, the run stays at c, which is one pair from the
    # end: 2 moves, as an optimal alignment needs (a, b skipped, c, b as a log move)
    assert late.cases.select("log_moves", "model_moves", "fitness").row(0) == (1, 1, 0.5)


def test_without_finished_cases_runs_are_not_checked_at_their_end() -> None:
    log = paths(HAND).filter(pl.col("case_id") == "c4")
    assert conformance(log, linear_version()).conforming == 1


def test_simulated_runs_of_each_seed_version_conform_to_it() -> None:
    for process, number in SEEDS:
        result = conformance(simulated(process, number), LIBRARY.get(process, number))
        assert (result.runs, result.conforming) == (60, 60), (process, number)
        assert result.mean_fitness == 1.0
        assert result.steps is not None and result.steps.is_empty()


def _changed(old: Version, new: Version) -> set[str]:
    """Steps in one version only, or allowed after other steps in ``new`` than in ``old``."""
    before, after = allowed_pairs(old), allowed_pairs(new)
    steps = {s.id for s in old.steps} | {s.id for s in new.steps}
    return {s for s in steps if {a for a, b in before if b == s} != {a for a, b in after if b == s}}


@pytest.mark.parametrize("process", ["private_lease", "eviction_prevention", "refugee_settlement"])
def test_a_log_against_the_redesign_deviates_at_the_steps_that_changed(process: str) -> None:
    old, new = LIBRARY.get(process, 1), LIBRARY.get(process, 2)
    log = simulated(process, 1)
    assert conformance(log, new).runs == 0  # only runs of v2 itself, unless every run is asked
    result = conformance(log, new, every_run=True)
    assert result.runs == 60 and result.conforming < 60
    assert result.mean_fitness is not None and result.mean_fitness < 1
    assert result.steps is not None and not result.steps.is_empty()
    shown = result.steps.filter((pl.col("log_moves") > 0) | (pl.col("first") > 0))
    assert set(shown["step"]) <= _changed(old, new) | {s.id for s in new.steps if s.kind == "end"}
    skipped = result.steps.filter(pl.col("model_moves") > 0)["step"]
    assert set(skipped) <= {s.id for s in new.steps}
    assert set(result.cases["version"]) == {1}  # each run keeps its own version


def test_parallel_branches_may_interleave_and_a_skipped_decision_is_a_model_move() -> None:
    runs = {
        "pay_first": ["intake", "assess", "pay", "contract"],
        "contract_first": ["intake", "assess", "contract", "pay"],
        "no_assessment": ["intake", "pay", "contract"],
    }
    result = conformance(paths(runs, process="branching"), branching_version())
    assert result.deviations.rows() == [("no_assessment", 2, "intake", "pay")]
    assert skipped_steps(branching_version())[("intake", "pay")] == ("assess",)


def test_a_left_out_parallel_branch_is_not_seen() -> None:
    """The pair relation's known limit (see the module): contract → end is allowed."""
    runs = {"no_payment": ["intake", "assess", "contract"]}
    log = paths(runs, finished=("no_payment",), process="branching")
    assert conformance(log, branching_version()).conforming == 1


def test_no_runs_gives_no_share_and_no_fitness() -> None:
    result = conformance(paths({"c1": ["a"]}, version=2), linear_version())
    assert (result.runs, result.share, result.mean_fitness) == (0, None, None)
