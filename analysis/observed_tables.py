"""The per-version tables of the observed analysis, and the work items they are built from.

Each function takes the frames :mod:`boflyt.analysis.observed` prepares once per call: ``log``
(the event log, each case's events together, with its case code ``c`` and the working minute
``wm``), ``kind_rows`` (the rows of each kind, by kind code), ``items`` (one row per work
item, from :func:`item_table`), ``done`` (completed steps in case order) and ``cases`` (one
row per case). Rows are matched by sortable integer keys and numpy's binary search; the tables
themselves are lazy polars queries. Text keys (step, lanes, org, process) travel as categoricals
inside and come out as text. Call :func:`boflyt.analysis.observed.observed_metrics` rather than
these directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import polars as pl

from boflyt.analysis.observed_cases import kind_code
from boflyt.models.vocabulary import EventKind, RunStatus

__all__ = [
    "bottleneck_table",
    "handoff_wait_table",
    "item_table",
    "summary_table",
    "variant_table",
    "workload_table",
]

_Array = np.ndarray[Any, Any]
_ITEM_KINDS = tuple(
    kind_code(kind)
    for kind in (EventKind.STEP_READY, EventKind.STEP_STARTED, EventKind.STEP_COMPLETED)
)
"""The kinds of event an item has: ready, started, completed."""
_ITEM_SPAN = 1 << 20
_IMPLICIT = "implicit"
"""``detail`` of a step_started the engine adds when an item is completed without a begin: its
time is the completion's, so the item is treated as having no start event."""
_VERSION = pl.col("version").cast(pl.Int64)
_VERSION_KEYS = ["process", "version"]


def item_table(log: pl.DataFrame, kind_rows: Mapping[int, _Array]) -> pl.DataFrame:
    """One row per work item: c, step, first_seq, process, version, wait minutes and when it
    was begun (``begun``), in the order of each item's first event.

    The ready, started and completed events of an item share the key case code × 2²⁰ + item
    number (the engine records each at most once per item): a stable sort of the keys brings
    each item's events together, and each one's row is placed in its item's slot. An item is
    one with a ready event, or (completed by the engine) with a completion alone; its step, seq
    and version come from the first of those. ``kind_rows`` holds the rows of each kind.
    """
    parts = _item_rows(log, kind_rows)
    rows = np.concatenate(parts)
    keys = log["c"].to_numpy()[rows].astype(np.int64) * _ITEM_SPAN
    keys += log["item"].gather(rows).cast(pl.Int64).to_numpy()
    order = np.argsort(keys, kind="stable")
    which = np.repeat(np.arange(3), [len(part) for part in parts])[order]
    rows, keys = rows[order], keys[order]
    slot = np.cumsum(np.r_[False, keys[1:] != keys[:-1]]) if len(keys) else keys
    placed = np.full((int(slot[-1]) + 1 if len(slot) else 0, 3), -1, dtype=np.int64)
    placed[slot, which] = rows
    first = np.where(placed[:, 0] >= 0, placed[:, 0], placed[:, 2])
    kept = np.flatnonzero(first >= 0)
    kept = kept[np.argsort(first[kept], kind="stable")]
    ready, started, done = placed[kept].T
    wm = log["wm"].to_numpy()
    times = [np.where(r >= 0, wm[r], np.nan) for r in (ready, started, done)]
    touch = log["touch_minutes"].gather(done).cast(pl.Float64).fill_null(0.0).to_numpy()
    waited = np.where(started >= 0, times[1] - times[0], times[2] - times[0] - touch)
    queued = ready >= 0
    begun = np.where(queued & (started >= 0), times[1], times[2])
    return log.select("c", "step", "seq", "process", "version")[first[kept]].select(
        "c", "step", pl.col("seq").cast(pl.Int64).alias("first_seq"), "process", _VERSION,
        pl.Series("wait", np.where(queued, np.maximum(waited, 0.0), np.nan)).fill_nan(None),
        pl.Series("begun", begun).fill_nan(None),
    )  # fmt: skip


def _item_rows(log: pl.DataFrame, kind_rows: Mapping[int, _Array]) -> list[_Array]:
    """The rows of ready, started (not implied at completion) and completed events that have an
    item number."""
    numbered = log["item"].is_not_null().to_numpy()
    ready, started, done = (kind_rows[code] for code in _ITEM_KINDS)
    marked = log.select(pl.col("detail").gather(started) == _IMPLICIT).to_series()
    implicit = marked.fill_null(False).to_numpy()
    return [rows[numbered[rows]] for rows in (ready, started[~implicit], done)]


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


def handoff_wait_table(
    log: pl.DataFrame, rows: _Array, items: pl.DataFrame, per_day: float
) -> pl.LazyFrame:
    """Working days from each handoff to the start of the next work item of its target step.

    The next item is the one of the same case and step with the smallest first ``seq`` after
    the handoff's (:func:`_next_begun`); a handoff whose next item has not begun is left out.
    ``rows`` are the log's handoff events.
    """
    read = ("c", "to_step", "seq", "from_lane", "to_lane", "wm", "process", "version")
    handed = log.select(read)[rows].select(
        "c", _cat("to_step").alias("step"), pl.col("seq").cast(pl.Int64), _cat("from_lane"),
        _cat("to_lane"), "wm", "process", _VERSION,
    )  # fmt: skip
    begun = pl.Series("begun", _next_begun(handed, items)).fill_nan(None)
    days = (pl.col("begun") - pl.col("wm")) / per_day
    return (
        handed.lazy()
        .with_columns(begun)
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


def _next_begun(handed: pl.DataFrame, items: pl.DataFrame) -> _Array:
    """Per handoff (c, step, seq), when the item of the same case and step with the smallest
    first seq after its seq was begun; NaN when there is none or it has not begun.

    Items and handoffs get one sortable key each (:func:`_seq_keys`); a binary search of the
    items' sorted keys finds each handoff's next item.
    """
    items = items.filter(pl.col("step").is_not_null())
    if items.is_empty():
        return np.full(handed.height, np.nan)
    steps = [frame["step"].to_physical() for frame in (items, handed)]
    known = np.sort(pl.concat(steps).unique().drop_nulls().to_numpy())
    pairs = []
    for frame, step in zip((items, handed), steps, strict=True):
        rank = np.searchsorted(known, step.fill_null(0).to_numpy())
        rank[step.is_null().to_numpy()] = len(known)  # matches no item
        pairs.append(frame["c"].to_numpy().astype(np.int64) * (len(known) + 1) + rank)
    seqs = [items["first_seq"].to_numpy(), handed["seq"].to_numpy()]
    keys, hkeys = _seq_keys(pairs, seqs)
    order = np.argsort(keys, kind="stable")
    at = np.searchsorted(keys[order], hkeys, side="right")
    inside = at < len(keys)
    at = order[np.where(inside, at, 0)]
    found = inside & (pairs[0][at] == pairs[1])
    return np.where(found, items["begun"].to_numpy()[at], np.nan)


def _seq_keys(pairs: list[_Array], seqs: list[_Array]) -> list[_Array]:
    """pair × span + seq for each row: one key that sorts by pair, then seq; the seqs are
    replaced by their ranks when such keys would not fit in 63 bits."""
    every = np.concatenate(seqs).astype(np.int64)
    every -= every.min(initial=0)
    top = max(int(pair.max(initial=0)) for pair in pairs) + 1
    if top * (int(every.max(initial=0)) + 2) >= 1 << 62:
        every = np.unique(every, return_inverse=True)[1]
    span, cut = int(every.max(initial=0)) + 2, len(seqs[0])
    return [pairs[0] * span + every[:cut], pairs[1] * span + every[cut:]]


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


def workload_table(done: pl.DataFrame, cases: pl.DataFrame) -> pl.LazyFrame:
    """process, version, org, touch minutes per finished case.

    Each completed step's case is looked up by its code (``c``: 0, 1, …), not joined.
    """
    is_finished = pl.col("status") == RunStatus.FINISHED.value
    closed = np.zeros(len(cases), dtype=bool)
    closed[cases.filter(is_finished)["c"].to_numpy()] = True
    counts = cases.lazy().filter(is_finished).group_by(_VERSION_KEYS).agg(pl.len().alias("_cases"))
    per_case = (pl.col("_touch") / pl.col("_cases")).alias("touch_minutes_per_case")
    return (
        done.filter(pl.Series(closed[done["c"].to_numpy()]) & pl.col("org").is_not_null())
        .lazy()
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
