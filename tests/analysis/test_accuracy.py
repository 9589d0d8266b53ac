"""Observed %C&A (from go-backs) and the activity ratio, on hand-made logs."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from boflyt.analysis.accuracy import observed_accuracy
from boflyt.analysis.observed import complete_columns, per_case

MONDAY = dt.datetime(2025, 1, 6, 8)


def log_of(traces: dict[str, list[str]], *, touch: float | None = 15.0) -> pl.DataFrame:
    """Each case: case_started, its completions an hour apart, case_finished."""
    rows: list[dict[str, object]] = []
    for case, steps in traces.items():
        rows.append({"case_id": case, "seq": 1, "kind": "case_started", "at": MONDAY})
        for seq, step in enumerate(steps, start=2):
            at = MONDAY + dt.timedelta(hours=seq - 1)
            rows.append({"case_id": case, "seq": seq, "kind": "step_completed", "step": step,
                         "at": at, "touch_minutes": touch})  # fmt: skip
        end = MONDAY + dt.timedelta(hours=len(steps) + 1)
        rows.append({"case_id": case, "seq": len(steps) + 2, "kind": "case_finished", "at": end})
    frame = complete_columns(pl.DataFrame(rows, infer_schema_length=None))
    return frame.with_columns(process=pl.lit("p"), version=pl.lit(1), mode=pl.lit("live"))


TRACES = {
    "a": ["check", "decide"],  # straight through
    "b": ["check", "fix", "check", "decide"],  # fix sends back to check
    "c": ["check", "decide", "decide"],  # decide repeated: a go-back after decide
    "d": ["check", "decide"],
}


def test_go_backs_give_each_steps_ca_and_the_rolled_ca() -> None:
    log = log_of(TRACES)
    found = observed_accuracy(log, per_case(log), minutes_per_day=450)
    steps = {r[0]: r[1:] for r in found.steps.select("step", "completions", "went_back").rows()}
    assert steps == {"check": (5, 0), "decide": (5, 1), "fix": (1, 1)}
    ca = dict(found.steps.select("step", "ca_percent").rows())
    assert ca == {"check": 100.0, "decide": pytest.approx(80.0), "fix": 0.0}
    row = found.versions.row(0, named=True)
    assert (row["cases"], row["first_pass"], row["rolled_ca_percent"]) == (4, 2, 50.0)


def test_the_activity_ratio_is_touch_over_lead_and_unknown_without_touch_times() -> None:
    log = log_of({"a": ["check", "decide"]})  # 2 x 15 touch minutes in 3 hours (180 minutes)
    row = observed_accuracy(log, per_case(log), minutes_per_day=450).versions.row(0, named=True)
    assert row["activity_ratio_median"] == pytest.approx(100 * 30 / 180)
    bare = log_of({"a": ["check", "decide"]}, touch=None)
    row = observed_accuracy(bare, per_case(bare), minutes_per_day=450).versions.row(0, named=True)
    assert row["ratio_cases"] == 0 and row["activity_ratio_median"] is None  # never 0


def test_a_running_case_is_left_out_of_the_rolled_figures() -> None:
    log = log_of(TRACES).filter(~((pl.col("case_id") == "b") & (pl.col("kind") == "case_finished")))
    found = observed_accuracy(log, per_case(log), minutes_per_day=450)
    assert found.versions.select("cases", "first_pass").row(0) == (3, 2)
    assert found.steps.filter(pl.col("step") == "fix")["went_back"].item() == 1  # still counted
