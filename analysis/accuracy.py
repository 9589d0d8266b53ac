"""Complete and accurate (%C&A) and the activity ratio, as observed in an event log.

A design states each step's %C&A and touch time; a log shows what happened. The observed
figures, for any run set (live, simulated or imported) alike, from the completed steps of each
case in ``seq`` order:

* **A go-back** is a completion whose case next completes a step it had already completed: the
  work went back (a send-back or rework) instead of on. A log cannot tell an output that was
  accurate from one nobody checked, so observed %C&A is an estimate from the go-backs.
* **%C&A of a step**: the share of its completions that were not followed by a go-back.
* **Rolled %C&A**: the share of finished cases with no go-back at all (the first-pass yield) —
  the observed counterpart of the design's product of the steps' %C&A.
* **Activity ratio**: a finished case's touch time over its lead time (working minutes, in
  percent); unknown (null) for a case whose log records no touch time, as an import of
  completions alone — never 0.

Pure: polars expressions over the whole log, no loop per event or case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from boflyt.models.vocabulary import EventKind

__all__ = ["Accuracy", "observed_accuracy"]

_DONE, _FINISHED = EventKind.STEP_COMPLETED.value, EventKind.CASE_FINISHED.value
_KEYS = ["process", "version"]


@dataclass(frozen=True)
class Accuracy:
    """Observed %C&A per step and per version, and the activity ratio per version."""

    steps: pl.DataFrame
    """process, version, step, completions, went_back, ca_percent."""
    versions: pl.DataFrame
    """process, version, cases (finished), first_pass, rolled_ca_percent, ratio_cases (finished
    cases whose touch time is known), activity_ratio_median, activity_ratio_mean (percent; null
    when no case's touch time is known)."""

    def as_dict(self) -> dict[str, Any]:
        return {"steps": self.steps.to_dicts(), "versions": self.versions.to_dicts()}


def _went_back(events: pl.DataFrame) -> pl.DataFrame:
    """Each completion with ``went_back``: the case's next completed step was done before."""
    done = (
        events.lazy()
        .filter((pl.col("kind") == _DONE) & pl.col("step").is_not_null())
        .sort("case_id", "seq")
        .select(*_KEYS, "case_id", "step")
        .with_columns(rank=pl.int_range(pl.len()).over("case_id"))
    )
    first = done.group_by("case_id", "step").agg(pl.col("rank").min().alias("first"))
    following = done.with_columns(
        next_step=pl.col("step").shift(-1).over("case_id"), next_rank=pl.col("rank") + 1
    ).join(
        first.rename({"step": "next_step", "first": "next_first"}),
        on=["case_id", "next_step"],
        how="left",
    )
    back = pl.col("next_first").is_not_null() & (pl.col("next_first") < pl.col("next_rank"))
    return following.with_columns(went_back=back).collect()


def observed_accuracy(
    events: pl.DataFrame, cases: pl.DataFrame, *, minutes_per_day: float
) -> Accuracy:
    """The observed %C&A and activity ratio of an event log.

    ``cases`` is the per-case table of :func:`boflyt.analysis.observed.per_case` (its
    ``lead_days`` and ``touch_minutes``), ``minutes_per_day`` the calendar's working day.

    >>> import datetime as dt
    >>> t = dt.datetime(2025, 1, 6, 8)
    >>> steps = ["check", "fix", "check", "decide"]  # check went back once (fix -> check)
    >>> log = pl.DataFrame({"case_id": ["c"] * 5, "seq": [1, 2, 3, 4, 5],
    ...     "kind": ["step_completed"] * 4 + ["case_finished"], "step": [*steps, None],
    ...     "touch_minutes": [30.0, 20.0, 10.0, 30.0, None],
    ...     "at": [t] * 5, "process": ["p"] * 5, "version": [1] * 5})
    >>> per = pl.DataFrame({"case_id": ["c"], "process": ["p"], "version": [1],
    ...     "status": ["finished"], "lead_days": [2.0], "touch_minutes": [90.0]})
    >>> found = observed_accuracy(log, per, minutes_per_day=450)
    >>> found.steps.select("step", "completions", "went_back", "ca_percent").rows()
    [('check', 2, 0, 100.0), ('decide', 1, 0, 100.0), ('fix', 1, 1, 0.0)]
    >>> found.versions.select("first_pass", "rolled_ca_percent", "activity_ratio_median").row(0)
    (0, 0.0, 10.0)
    """
    done = _went_back(events)
    steps = (
        done.group_by(*_KEYS, "step")
        .agg(pl.len().alias("completions"), pl.col("went_back").sum().cast(pl.Int64))
        .with_columns(ca_percent=100.0 * (1 - pl.col("went_back") / pl.col("completions")))
        .sort(*_KEYS, "step")
    )
    finished = events.filter(pl.col("kind") == _FINISHED).select("case_id").unique()
    backs = done.group_by("case_id").agg(pl.col("went_back").any().alias("back"))
    touched = events.filter((pl.col("kind") == _DONE) & pl.col("touch_minutes").is_not_null())
    known = touched.select("case_id").unique().with_columns(known=pl.lit(True))
    lead_minutes = pl.col("lead_days") * minutes_per_day
    ratio = pl.when(pl.col("known") & (lead_minutes > 0)).then(
        100.0 * pl.col("touch_minutes") / lead_minutes
    )
    per_case = (
        cases.join(finished, on="case_id", how="semi")
        .join(backs, on="case_id", how="left")
        .join(known, on="case_id", how="left")
        .with_columns(pl.col("back", "known").fill_null(False))
        .with_columns(ratio=ratio)
    )
    versions = (
        per_case.group_by(_KEYS)
        .agg(
            pl.len().alias("cases"),
            (~pl.col("back")).sum().cast(pl.Int64).alias("first_pass"),
            pl.col("ratio").is_not_null().sum().cast(pl.Int64).alias("ratio_cases"),
            pl.col("ratio").median().alias("activity_ratio_median"),
            pl.col("ratio").mean().alias("activity_ratio_mean"),
        )
        .with_columns(rolled_ca_percent=100.0 * pl.col("first_pass") / pl.col("cases"))
        .select(
            *_KEYS,
            "cases",
            "first_pass",
            "rolled_ca_percent",
            "ratio_cases",
            "activity_ratio_median",
            "activity_ratio_mean",
        )
        .sort(_KEYS)
    )
    return Accuracy(steps, versions)
