"""The per-case figures of the observed analysis, computed column-wise over the shared log.

Every function takes what :mod:`boflyt.analysis.observed` prepares once per call: the log with
each case's events together and its case code ``c`` (0, 1, … in that order), each row's kind code
(``kinds``), each case's first row (``starts``), the completed steps in case and ``seq`` order
(``done``) and one row per work item (``items``). A case's figures are reductions over its rows
(numpy's ``reduceat`` over a case's run of rows, ``bincount`` by case code): one pass per figure
over the rows it concerns, no join and no hash table per case. Call
:func:`boflyt.analysis.observed.per_case` rather than these directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from boflyt.models.vocabulary import EventKind, RunStatus

__all__ = ["case_table", "kind_code", "run_starts"]

_Array = np.ndarray[Any, Any]
_KIND_CODES = {kind.value: code for code, kind in enumerate(EventKind)}


def kind_code(kind: EventKind) -> int:
    """The code of an event kind in the analysis's kind enum (:class:`EventKind`'s order)."""
    return _KIND_CODES[kind.value]


_BEGIN, _FINISH = kind_code(EventKind.CASE_STARTED), kind_code(EventKind.CASE_FINISHED)
_CANCEL, _HANDOFF = kind_code(EventKind.CASE_CANCELLED), kind_code(EventKind.HANDOFF)


def run_starts(codes: _Array) -> _Array:
    """The index where each run of equal values begins.

    >>> run_starts(np.array([4, 4, 7, 7, 7, 2])).tolist()
    [0, 2, 5]
    """
    if not len(codes):
        return np.empty(0, dtype=np.int64)
    changed = np.empty(len(codes), dtype=bool)
    changed[0] = True
    np.not_equal(codes[1:], codes[:-1], out=changed[1:])
    return np.flatnonzero(changed)


def by_case(reduce: np.ufunc, codes: _Array, values: _Array, n: int, empty: float) -> _Array:
    """``reduce`` of ``values`` per case code, for rows in case order (each case's rows together);
    ``empty`` for the cases without a row."""
    result = np.full(n, empty, dtype=np.float64)
    heads = run_starts(codes)
    if len(heads):
        result[codes[heads]] = reduce.reduceat(values, heads)
    return result


def case_table(
    log: pl.DataFrame,
    kind_rows: Mapping[int, _Array],
    starts: _Array,
    done: pl.DataFrame,
    items: pl.DataFrame,
    per_day: float,
) -> pl.DataFrame:
    """One row per case, in case-code order: c, case_id, process, version, mode, status,
    lead_days, touch_minutes, waiting_days, handoffs, transactions, rework, variant (the
    definitions are :data:`boflyt.analysis.observed.CASE_METRICS`); ``kind_rows`` holds the
    rows of each kind of event, by its code."""
    n = len(starts)
    first, last, finished, cancelled = _span(log, kind_rows, starts)
    handoffs = np.bincount(log["c"].to_numpy()[kind_rows[_HANDOFF]], minlength=n)
    codes = done["c"].to_numpy()
    touch = by_case(np.add, codes, done["touch_minutes"].fill_null(0.0).to_numpy(), n, 0.0)
    extra = by_case(np.add, codes, done["transactions"].fill_null(0).to_numpy(), n, 0.0)
    wait = items["wait"].fill_null(0.0).to_numpy()
    waiting = np.bincount(items["c"].to_numpy(), weights=wait, minlength=n)
    status = (
        pl.when(pl.col("_finished"))
        .then(pl.lit(RunStatus.FINISHED.value))
        .when(pl.col("_cancelled"))
        .then(pl.lit(RunStatus.CANCELLED.value))
        .otherwise(pl.lit(RunStatus.RUNNING.value))
    )
    figures = pl.DataFrame({
        "_finished": finished, "_cancelled": cancelled, "lead_days": (last - first) / per_day,
        "touch_minutes": touch, "waiting_days": waiting / per_day,
        "handoffs": handoffs.astype(np.int64),
        "transactions": handoffs.astype(np.int64) + extra.astype(np.int64),
    })  # fmt: skip
    return (
        pl.concat([_identity(log, starts), figures], how="horizontal")
        .join(_variants(done), on="c", how="left")
        .select(
            "c", "case_id", "process", "version", "mode", status.alias("status"), "lead_days",
            "touch_minutes", "waiting_days", "handoffs", "transactions",
            pl.col("rework").fill_null(0), pl.col("variant").fill_null(""),
        )
        .sort("case_id")
    )  # fmt: skip


def _identity(log: pl.DataFrame, starts: _Array) -> pl.DataFrame:
    """Each case's code, id, process, version and mode, from its first event."""
    first = log.select("c", "case_id", "process", "version", "mode")[starts]
    return first.select(
        "c", pl.col("case_id", "process", "mode").cast(pl.String), pl.col("version").cast(pl.Int64)
    ).select("c", "case_id", "process", "version", "mode")


def _span(log: pl.DataFrame, kind_rows: Mapping[int, _Array], starts: _Array) -> tuple[_Array, ...]:
    """Each case's first and last working minute (case_started, and case_finished or
    case_cancelled, where it has them; else its first and last event), and whether it finished
    or was cancelled."""
    n, codes, wm = len(starts), log["c"].to_numpy(), log["wm"].to_numpy()
    begin = kind_rows[_BEGIN]
    close = np.sort(np.concatenate([kind_rows[_FINISH], kind_rows[_CANCEL]]))
    first = by_case(np.minimum, codes[begin], wm[begin], n, np.nan)
    last = by_case(np.maximum, codes[close], wm[close], n, np.nan)
    if n:
        first = np.where(np.isnan(first), np.minimum.reduceat(wm, starts), first)
        last = np.where(np.isnan(last), np.maximum.reduceat(wm, starts), last)
    finished, cancelled = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    finished[codes[kind_rows[_FINISH]]] = True
    cancelled[codes[kind_rows[_CANCEL]]] = True
    return first, last, finished, cancelled


def _variants(done: pl.DataFrame) -> pl.DataFrame:
    """c, variant, rework: each case's completed steps joined by "→", and the number of
    distinct steps among them done more than once. Both are computed once per distinct
    sequence of steps, not once per case."""
    text = pl.element().cast(pl.String)
    distinct = done.lazy().group_by("c").agg("step").group_by("step").agg("c").with_row_index("v")
    again = (
        distinct.select("v", "step").explode("step").group_by("v", "step").len()
        .filter(pl.col("len") > 1).group_by("v").agg(pl.len().cast(pl.Int64).alias("rework"))
    )  # fmt: skip
    return (
        distinct.select("v", "c", pl.col("step").list.eval(text).list.join("→").alias("variant"))
        .join(again, on="v", how="left")
        .select("c", "variant", pl.col("rework").fill_null(0))
        .explode("c")
        .collect()
    )
