"""The per-version tables of the observed analysis, as lazy polars queries.

Each function takes the frames :mod:`boflyt.analysis.observed` prepares: ``log`` (the event log with
an integer case code ``c``, ``kind`` as an enum and the working minute ``wm``), ``items`` (one
row per work item, from :func:`item_table`), ``done`` (completed steps in case order) and
``cases`` (one row per case). Text keys (step, lanes, org, process) travel as categoricals
inside and come out as text. Call :func:`boflyt.analysis.observed.observed_metrics` rather than
these
directly.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from boflyt.models.vocabulary import EventKind, RunStatus

__all__ = [
    "bottleneck_table",
    "handoff_wait_table",
    "item_table",
    "summary_table",
    "variant_table",
    "workload_table",
]

_KIND = pl.col("kind")
_HANDOFF = EventKind.HANDOFF.value
_READY, _STARTED = EventKind.STEP_READY.value, EventKind.STEP_STARTED.value
_DONE = EventKind.STEP_COMPLETED.value
_ITEM_SPAN = 1 << 20
_IMPLICIT = "implicit"
"""``detail`` of a step_started the engine adds when an item is completed without a begin: its
time is the completion's, so the item is treated as having no start event."""
_VERSION = pl.col("version").cast(pl.Int64)
_VERSION_KEYS = ["process", "version"]
_PAIR_SPAN = 1 << 32


def item_table(log: pl.LazyFrame) -> pl.DataFrame:
    """One row per work item: step, first seq, wait minutes and when it was begun.

    Built by joining the ready, started and completed events on ``k`` = case code × 2²⁰ + item
    number (the engine records each at most once per item); items without a ready event
    (completed by the engine) come from their completion alone. A log in case order gives
    sorted keys, which lets polars merge-join instead of building hash tables.
    """
    kind, wm = _KIND, pl.col("wm")
    item = pl.col("item").is_not_null()
    key = (pl.col("c").cast(pl.Int64) * _ITEM_SPAN + pl.col("item").cast(pl.Int64)).alias("k")
    row = (key, "c", "step", pl.col("seq").cast(pl.Int64), "process", _VERSION)
    explicit = pl.col("detail").is_null() | (pl.col("detail").cast(pl.String) != _IMPLICIT)
    ready, started, done = (
        _flag_sorted(frame, "k")
        for frame in pl.collect_all([
            log.filter(item & (kind == _READY)).select(*row, wm.alias("ready")),
            log.filter(item & (kind == _STARTED) & explicit).select(key, wm.alias("started")),
            log.filter(item & (kind == _DONE)).select(
                *row, wm.alias("completed"), pl.col("touch_minutes").cast(pl.Float64).alias("touch")
            ),
        ])
    )  # fmt: skip
    queued = ready.lazy().join(started.lazy(), on="k", how="left", maintain_order="left")
    if ready["k"].flags["SORTED_ASC"]:  # a left join in left order keeps the order
        queued = queued.with_columns(pl.col("k").set_sorted())
    queued = queued.join(
        done.lazy().select("k", "completed", "touch"), on="k", how="left", maintain_order="left"
    )
    automatic = done.lazy().join(ready.lazy().select("k"), on="k", how="anti")
    waited = pl.coalesce(
        pl.col("started") - pl.col("ready"),
        pl.col("completed") - pl.col("ready") - pl.col("touch").fill_null(0.0),
    )
    kept: list[str | pl.Expr] = ["c", "step", pl.col("seq").alias("first_seq"), *_VERSION_KEYS]
    return pl.concat([
        queued.select(
            *kept, waited.clip(lower_bound=0.0).alias("wait"),
            pl.coalesce("started", "completed").alias("begun"),
        ),
        automatic.select(
            *kept, pl.lit(None, pl.Float64).alias("wait"), pl.col("completed").alias("begun")
        ),
    ]).collect()  # fmt: skip


def _flag_sorted(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """``frame`` with ``column`` flagged as sorted when it is (checked, not assumed)."""
    if frame[column].is_sorted():
        return frame.with_columns(pl.col(column).set_sorted())
    return frame


def summary_table(cases: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """process, version, metric, cases, mean, median, p90 of the per-case ``keys``, over
    finished cases, metrics in the order of ``keys``.

    One group-by computes every statistic side by side; only its few rows are then stacked
    into the long shape (no unpivot of the per-case table).
    """
    finished = cases.filter(pl.col("status") == RunStatus.FINISHED.value).select(
        *_VERSION_KEYS, *(pl.col(k).cast(pl.Float64) for k in keys)
    )
    stats: dict[str, Callable[[pl.Expr], pl.Expr]] = {
        "mean": lambda c: c.mean(),
        "median": lambda c: c.median(),
        "p90": lambda c: c.quantile(0.9, interpolation="linear"),
    }
    wide = finished.group_by(_VERSION_KEYS).agg(
        pl.len().alias("cases"),
        *(f(pl.col(k)).alias(f"{k}|{s}") for k in keys for s, f in stats.items()),
    )
    rows = [
        wide.select(
            *_VERSION_KEYS, pl.lit(k).alias("metric"), "cases",
            *(pl.col(f"{k}|{s}").alias(s) for s in stats), pl.lit(i).alias("_o"),
        )
        for i, k in enumerate(keys)
    ]  # fmt: skip
    return pl.concat(rows).sort(*_VERSION_KEYS, "_o").drop("_o")


def handoff_wait_table(log: pl.LazyFrame, items: pl.LazyFrame, per_day: float) -> pl.LazyFrame:
    """Working days from each handoff to the start of the next work item of its target step.

    The next item is the one of the same case and step with the smallest first ``seq`` after
    the handoff's: an equi-join on (case, step) — a handful of items each — then the nearest.
    (Case and step codes are both 32-bit, so ``pair`` packs them into one 64-bit key.)
    """
    handed = (
        log.filter(_KIND == _HANDOFF)
        .with_row_index("h")
        .select(
            "h", "c", _cat("to_step").alias("step"), pl.col("seq").cast(pl.Int64),
            _cat("from_lane"), _cat("to_lane"), "wm", "process", pl.col("version").cast(pl.Int64),
        )
    )  # fmt: skip
    pair = pl.col("c").cast(pl.UInt64) * _PAIR_SPAN + pl.col("step").to_physical().cast(pl.UInt64)
    nearest = (
        handed.select("h", pair.alias("pair"), "seq")
        .join(items.select(pair.alias("pair"), "first_seq", "begun"), on="pair", how="inner")
        .filter(pl.col("first_seq") > pl.col("seq"))
        .group_by("h")
        .agg(pl.col("begun").sort_by("first_seq").first())
    )
    days = (pl.col("begun") - pl.col("wm")) / per_day
    return (
        handed.join(nearest, on="h", how="inner")
        .filter(pl.col("begun").is_not_null())
        .group_by(*_VERSION_KEYS, "from_lane", "to_lane")
        .agg(
            pl.len().alias("handoffs"),
            days.mean().alias("mean_days"),
            days.median().alias("median_days"),
            days.quantile(0.9, interpolation="linear").alias("p90_days"),
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
    return pl.col(name).cast(pl.Categorical)


def _text(*names: str) -> pl.Expr:
    """Categorical columns of a (small) result back to text."""
    return pl.col(*names).cast(pl.String)
