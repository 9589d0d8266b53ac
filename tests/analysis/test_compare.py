"""Before/after comparisons: design rows, bootstrap intervals, the structural story, sentences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from boflyt.analysis.compare import compare, mean_difference_ci
from boflyt.engine.definition.load import load_library
from tests.analysis.test_observed import hand_log
from tests.factories import linear_version, make_version

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def lean_version():  # type: ignore[no-untyped-def]
    """linear_version without b: start → a → end, all in housing_office."""
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "a", "kind": "task", "touch_minutes": 20, "wait_days": 1},
            {"id": "end", "kind": "end"},
        ],
        [{"from": "start", "to": "a"}, {"from": "a", "to": "end"}],
        version=2,
    )


def test_design_rows_give_change_and_percent_change() -> None:
    result = compare(linear_version(), lean_version())
    handoffs = result.row("expected_handoffs")
    assert (handoffs.before, handoffs.after, handoffs.change) == (1.0, 0.0, -1.0)
    assert handoffs.pct_change == pytest.approx(-100.0)
    touch = result.row("touch_minutes")  # 90 → 20
    assert touch.change == pytest.approx(-70.0)
    assert touch.pct_change == pytest.approx(-70 / 90 * 100)
    assert result.row("rolled_ca").pct_change is None  # a % metric changes in points only
    assert all(row.source == "design" for row in result.rows)


def test_structural_story_matches_steps_by_id() -> None:
    result = compare(linear_version(), lean_version())
    assert result.steps_removed == ("b",)
    assert result.steps_added == ()
    assert result.steps_changed == ("a", "end")  # a: touch and wait; end: lane
    assert [(h.source, h.target) for h in result.handoffs_removed] == [("a", "b")]
    assert result.lane_pairs == (("housing_office", "nav", 1, 0),)
    assert (result.handoffs_before, result.handoffs_after) == (1, 0)
    json.dumps(result.as_dict())  # plain data


def test_summary_sentences_carry_the_figures() -> None:
    result = compare(linear_version(), lean_version())
    nb, en = result.summary("nb"), result.summary("en")
    assert nb[0] == "v2 fjerner 1,0 av 1,0 forventede overleveringer per sak (−100 %)."
    assert en[0] == "v2 removes 1.0 of 1.0 expected handoffs per case (−100 %)."
    assert any("v2 removes 1 steps, adds 0 and changes 2" in s for s in en)


def test_observed_rows_compare_means_with_a_seeded_bootstrap_interval() -> None:
    before = hand_log()
    # the same cases finishing one working day later (Thu → Fri, Tue → Wed): lead + 1 wd
    late = (pl.col("kind") == "case_finished") | pl.col("step").is_in(["b", "end"]) & (
        pl.col("kind") == "step_completed"
    )
    after = before.with_columns(
        pl.when(late).then(pl.col("at") + pl.duration(days=1)).otherwise(pl.col("at")),
        pl.lit(2).alias("version"),
    )
    result = compare(linear_version(), lean_version(), before_events=before, after_events=after)
    lead = result.row("observed_lead_days")
    assert lead.source == "observed"
    # before: 3.2 and 1.6 → 2.4 ; after: 4.2 and 2.6 → 3.4
    assert (lead.before, lead.after) == (pytest.approx(2.4), pytest.approx(3.4))
    assert lead.change == pytest.approx(1.0)
    assert lead.ci_low is not None and lead.ci_high is not None
    assert lead.ci_low <= 1.0 <= lead.ci_high
    waiting = result.row("observed_waiting_days")
    assert waiting.change == pytest.approx(0.0)
    again = compare(linear_version(), lean_version(), before_events=before, after_events=after)
    assert again.row("observed_lead_days") == lead
    assert any(s.startswith("Observed lead time: 2.4 → 3.4") for s in result.summary("en"))


def test_bootstrap_interval_covers_a_known_shift_and_is_reproducible() -> None:
    rng = np.random.default_rng(11)
    before = rng.normal(10.0, 2.0, size=(400, 2))
    after = before[rng.permutation(400)] - np.array([3.0, 0.0])
    low, high = mean_difference_ci(before, after, seed=5, resamples=1000)
    assert low[0] < -3.0 < high[0] and high[0] - low[0] < 1.0
    assert low[1] < 0.0 < high[1]
    low2, high2 = mean_difference_ci(before, after, seed=5, resamples=1000)
    assert (low == low2).all() and (high == high2).all()
    with pytest.raises(ValueError, match="need cases"):
        mean_difference_ci(before[:0], after)


@pytest.mark.parametrize("process", ["private_lease", "refugee_settlement", "eviction_prevention"])
def test_seed_comparisons_tell_the_story(process: str) -> None:
    library = load_library(PROCESSES)
    result = compare(library.get(process, 1), library.get(process, 2), lanes=library.lanes)
    assert result.row("expected_handoffs").change < 0
    assert result.duplicates_removed and not result.duplicates_added
    assert result.steps_removed
    first = result.summary("nb")[0]
    assert first.startswith("v2 fjerner ") and "forventede overleveringer per sak" in first
