"""The per-version tables of the observed analysis, as lazy polars queries.

Each function takes the frames :mod:`analysis.observed` prepares: ``log`` (the typed event log
with an integer case code ``c`` and working minute ``wm``), ``items`` (one row per work item),
``done`` (completed steps in case order) and ``cases`` (one row per case). Call
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
_SEQ_SPAN = 1 << 32
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
    """Working days from each handoff to the start of the next work item of its target step."""
    order = pl.col("c") * _SEQ_SPAN
    handed = (
        log.filter(_KIND == _HANDOFF)
        .select(
            (order + pl.col("seq")).alias("g"), "c", pl.col("to_step").alias("step"),
            "from_lane", "to_lane", "wm", *_VERSION_KEYS,
        )
        .sort("g")
    )  # fmt: skip
    targets = items.select((order + pl.col("first_seq")).alias("g"), "c", "step", "begun").sort("g")
    days = (pl.col("begun") - pl.col("wm")) / per_day
    return (
        handed.join_asof(
            targets,
            on="g",
            by=["c", "step"],
            strategy="forward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .filter(pl.col("begun").is_not_null())
        .group_by(*_VERSION_KEYS, "from_lane", "to_lane")
        .agg(
            pl.len().alias("handoffs"),
            days.mean().alias("mean_days"),
            days.median().alias("median_days"),
        )
        .sort(*_VERSION_KEYS, "mean_days", descending=[False, False, True])
    )


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
        .join(counts, on=_VERSION_KEYS)
        .select(*_VERSION_KEYS, "org", per_case)
        .sort(*_VERSION_KEYS, "touch_minutes_per_case", descending=[False, False, True])
    )
