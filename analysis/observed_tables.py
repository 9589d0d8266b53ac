"""The per-version tables of the observed analysis, as lazy polars queries.

Each function takes the frames :mod:`analysis.observed` prepares: ``log`` (the event log with
an integer case code ``c``, ``kind`` as an enum and the working minute ``wm``), ``items`` (one
row per work item), ``done`` (completed steps in case order) and ``cases`` (one row per case).
Text keys (step, lanes, org, process) travel as categoricals inside and come out as text. Call
:func:`analysis.observed.observed_metrics` rather than these directly.
"""

from __future__ import annotations

import polars as pl

from models.vocabulary import EventKind, RunStatus

__all__ = [
    "bottleneck_table",
    "handoff_wait_table",
    "summary_table",
    "variant_table",
    "workload_table",
]

_KIND = pl.col("kind")
_HANDOFF = EventKind.HANDOFF.value
_VERSION_KEYS = ["process", "version"]


def summary_table(cases: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """process, version, metric, cases, mean, median, p90 of the per-case ``keys``, over
    finished cases, metrics in the order of ``keys``."""
    value = pl.col("value")
    return (
        cases.filter(pl.col("status") == RunStatus.FINISHED.value)
        .select(*_VERSION_KEYS, *(pl.col(k).cast(pl.Float64) for k in keys))
        .unpivot(index=_VERSION_KEYS, on=keys, variable_name="metric")
        .group_by(*_VERSION_KEYS, "metric")
        .agg(
            pl.len().alias("cases"),
            value.mean().alias("mean"),
            value.median().alias("median"),
            value.quantile(0.9, interpolation="linear").alias("p90"),
        )
        .with_columns(pl.col("metric").replace_strict(keys, list(range(len(keys)))).alias("_o"))
        .sort(*_VERSION_KEYS, "_o")
        .drop("_o")
    )


def handoff_wait_table(log: pl.LazyFrame, items: pl.LazyFrame, per_day: float) -> pl.LazyFrame:
    """Working days from each handoff to the start of the next work item of its target step.

    The next item is the one of the same case and step with the smallest first ``seq`` after
    the handoff's: an equi-join on (case, step) — a handful of items each — then the nearest.
    """
    handed = (
        log.filter(_KIND == _HANDOFF)
        .with_row_index("h")
        .select(
            "h", "c", _cat("to_step").alias("step"), pl.col("seq").cast(pl.Int64),
            _cat("from_lane"), _cat("to_lane"), "wm", "process", pl.col("version").cast(pl.Int64),
        )
    )  # fmt: skip
    targets = items.select("c", "step", "first_seq", "begun")
    days = (pl.col("begun") - pl.col("wm")) / per_day
    return (
        handed.join(targets, on=["c", "step"], how="inner")
        .filter(pl.col("first_seq") > pl.col("seq"))
        .sort("h", "first_seq", maintain_order=True)
        .unique("h", keep="first", maintain_order=True)
        .filter(pl.col("begun").is_not_null())
        .group_by(*_VERSION_KEYS, "from_lane", "to_lane")
        .agg(
            pl.len().alias("handoffs"),
            days.mean().alias("mean_days"),
            days.median().alias("median_days"),
        )
        .with_columns(_text("process", "from_lane", "to_lane"))
        .sort(
            *_VERSION_KEYS, "mean_days", "from_lane", "to_lane",
            descending=[False, False, True, False, False],
        )
    )  # fmt: skip


def bottleneck_table(items: pl.LazyFrame, per_day: float) -> pl.LazyFrame:
    """process, version, step, items, mean and p90 wait in working days; longest first."""
    wait = pl.col("wait") / per_day
    return (
        items.filter(pl.col("wait").is_not_null())
        .group_by(*_VERSION_KEYS, "step")
        .agg(
            pl.len().alias("items"),
            wait.mean().alias("mean_wait_days"),
            wait.quantile(0.9, interpolation="linear").alias("p90_wait_days"),
        )
        .with_columns(_text("process", "step"))
        .sort(*_VERSION_KEYS, "mean_wait_days", "step", descending=[False, False, True, False])
    )


def variant_table(cases: pl.LazyFrame) -> pl.LazyFrame:
    """process, version, variant, cases, share — over finished cases, most frequent first."""
    count = pl.len().alias("cases")
    return (
        cases.filter(pl.col("status") == RunStatus.FINISHED.value)
        .group_by(*_VERSION_KEYS, "variant")
        .agg(count)
        .with_columns((pl.col("cases") / pl.col("cases").sum().over(_VERSION_KEYS)).alias("share"))
        .sort(*_VERSION_KEYS, "cases", "variant", descending=[False, False, True, False])
    )


def workload_table(done: pl.LazyFrame, cases: pl.LazyFrame) -> pl.LazyFrame:
    """process, version, org, touch minutes per finished case."""
    finished = cases.filter(pl.col("status") == RunStatus.FINISHED.value)
    counts = finished.group_by(_VERSION_KEYS).agg(pl.len().alias("_cases"))
    per_case = (pl.col("_touch") / pl.col("_cases")).alias("touch_minutes_per_case")
    return (
        done.filter(pl.col("org").is_not_null())
        .join(finished.select("c"), on="c", how="semi")
        .group_by(*_VERSION_KEYS, "org")
        .agg(pl.col("touch_minutes").sum().alias("_touch"))
        .with_columns(_text("process", "org"))
        .join(counts, on=_VERSION_KEYS)
        .select(*_VERSION_KEYS, "org", per_case)
        .sort(
            *_VERSION_KEYS, "touch_minutes_per_case", "org",
            descending=[False, False, True, False],
        )
    )  # fmt: skip


def _cat(name: str) -> pl.Expr:
    """A text column of the log as a categorical (codes shared with the other frames)."""
    return pl.col(name).cast(pl.String).cast(pl.Categorical)


def _text(*names: str) -> pl.Expr:
    """Categorical columns of a (small) result back to text."""
    return pl.col(*names).cast(pl.String)
