"""LEAN metrics observed in an event log: per case, per version, vectorised with polars.

Works on any event log in our schema — live, simulated or imported alike: a polars frame with
the columns of :data:`boflyt.models.events.EVENT_COLUMNS` plus ``process`` (str), ``version`` (int)
and
``mode`` (str); ``at`` is a naive UTC datetime. Durations are *working* time, measured with a
:class:`~boflyt.engine.calendar.WorkCalendar` (1 working day = 450 minutes by default). No
Python loop runs per event or per case; every figure is a polars expression over the whole log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from boflyt.analysis import observed_tables as tables
from boflyt.analysis.conformance import Conformance, conformance
from boflyt.analysis.design import Metric
from boflyt.analysis.observed_cases import case_table, kind_code, run_starts
from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar
from boflyt.models.definition import Version
from boflyt.models.events import EVENT_COLUMNS
from boflyt.models.vocabulary import EventKind

__all__ = [
    "CASE_METRICS",
    "ObservedMetrics",
    "compact_log",
    "complete_columns",
    "observed_metrics",
    "per_case",
    "working_minutes",
]

_DONE = EventKind.STEP_COMPLETED.value
_ROW_KINDS = (
    EventKind.CASE_STARTED, EventKind.STEP_READY, EventKind.STEP_STARTED,
    EventKind.STEP_COMPLETED, EventKind.HANDOFF, EventKind.CASE_FINISHED,
    EventKind.CASE_CANCELLED,
)  # fmt: skip
"""The kinds of event whose rows the analysis looks up."""
_KINDS = pl.Enum([kind.value for kind in EventKind])
_DAY_US = 86_400_000_000
_BLOCK = 1 << 16
_SEQ_SPAN = 1 << 32
_VERSION_KEYS = ["process", "version"]

CASE_METRICS: tuple[Metric, ...] = (
    Metric("lead_days", "wd",
           "Working days from case_started to case_finished (or case_cancelled; for a running "
           "case, to its last event).", label_key="observed_lead_days"),
    Metric("touch_minutes", "min",
           "Σ touch minutes recorded on step_completed events.",
           label_key="observed_touch_minutes"),
    Metric("waiting_days", "wd",
           "Σ over work items of working time from step_ready to step_started, or to "
           "step_completed minus its touch minutes when the item has no start event of its own "
           "(a start the engine implied at completion does not count).",
           label_key="observed_waiting_days"),
    Metric("handoffs", "count",
           "Number of handoff events (the case moved between owning lanes).",
           label_key="observed_handoffs"),
    Metric("transactions", "count",
           "Handoffs + Σ transactions recorded on step_completed events (the steps' extra "
           "exchanges) — the same definition as the design metric.",
           label_key="observed_transactions"),
    Metric("rework", "count",
           "Number of distinct steps completed more than once in the case.",
           label_key="observed_rework"),
)  # fmt: skip
"""The per-case metrics, in display order; one definition each (quoted in the docs)."""


@dataclass(frozen=True)
class ObservedMetrics:
    """Observed metrics of an event log; every table carries ``process`` and ``version``."""

    cases: pl.DataFrame
    """:func:`per_case` of the whole log."""
    summary: pl.DataFrame
    """process, version, metric, cases, mean, median, p90 — over finished cases."""
    handoff_waits: pl.DataFrame
    """process, version, from_lane, to_lane, handoffs, mean_days, median_days, p90_days: working
    days from a handoff to the start of the step it handed to."""
    bottlenecks: pl.DataFrame
    """process, version, step, items, mean_wait_days, p90_wait_days; longest mean wait first."""
    variants: pl.DataFrame
    """process, version, variant, cases, share — over finished cases, most frequent first."""
    workload: pl.DataFrame
    """process, version, org, touch_minutes_per_case — over finished cases."""
    conformance: Conformance | None = None
    """Only when a version was given."""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly data (the per-case table left out: it is as long as the log)."""
        data: dict[str, Any] = {
            name: getattr(self, name).to_dicts()
            for name in ("summary", "handoff_waits", "bottlenecks", "variants", "workload")
        }
        data["cases"] = self.cases.height
        data["conformance"] = None if self.conformance is None else self.conformance.as_dict()
        return data

    def mean(self, metric: str, *, process: str, version: int) -> float | None:
        """The mean of one per-case metric for one version, or None without finished cases."""
        rows = self.summary.filter(
            (pl.col("metric") == metric)
            & (pl.col("process") == process)
            & (pl.col("version") == version)
        )
        return None if rows.is_empty() else float(rows["mean"][0])


def working_minutes(at: pl.Series, calendar: WorkCalendar = DEFAULT_CALENDAR) -> pl.Series:
    """Working minutes from the calendar's epoch to each timestamp (== ``minutes_expr``).

    The calendar is evaluated once per day of the log's date range, then looked up by day
    index: a log has far fewer days than events. The lookup runs in blocks of
    :data:`_BLOCK` timestamps, so its temporaries stay small whatever the log's length.

    Raises:
        ValueError: when a timestamp is missing.

    >>> import datetime as dt
    >>> at = pl.Series([dt.datetime(2025, 1, 6, 8), dt.datetime(2025, 1, 7, 9)])
    >>> (working_minutes(at) - working_minutes(at)[0]).to_list()  # Mon 08:00, Tue 09:00
    [0.0, 510.0]
    """
    if at.null_count():
        raise ValueError(f"{at.null_count()} event(s) have no timestamp ('at')")
    if at.is_empty():
        return pl.Series("wm", [], dtype=pl.Float64)
    micros = at.dt.cast_time_unit("us").to_physical()
    first, last = (int(value) // _DAY_US for value in (micros.min(), micros.max()))  # type: ignore[arg-type]
    days = pl.DataFrame({"d": pl.date_range(_date(first), _date(last + 1), eager=True)}).select(
        calendar.minutes_expr(pl.col("d").cast(pl.Datetime("us")))
    )
    base = days.to_series().to_numpy()
    opened, start = base[1:] > base[:-1], base[:-1]
    result = np.empty(len(micros))
    for low in range(0, len(micros), _BLOCK):
        block = micros.slice(low, _BLOCK).to_numpy()
        day = block // _DAY_US
        index = day - first
        minute = (block - day * _DAY_US) / 60e6
        within = np.clip(minute - calendar.start_hour * 60, 0.0, calendar.minutes_per_day)
        result[low : low + _BLOCK] = start[index] + np.where(opened[index], within, 0.0)
    return pl.Series("wm", result)


def _date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=day)


def _cat(name: str) -> pl.Expr:
    """A text column as a categorical: one 4-byte code a row; codes agree across frames."""
    return pl.col(name).cast(pl.Categorical)


def _int(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Int64)


def _key(column: str, span: int) -> pl.Expr:
    """``c`` × span + an integer column: one sortable / joinable key per case and number."""
    return pl.col("c").cast(pl.Int64) * span + _int(column)


_VERSION: tuple[str | pl.Expr, ...] = ("process", _int("version"))
"""The version keys as the internal frames carry them (process is a categorical)."""


_TEXT = ("step", "org", "to_step", "from_lane", "to_lane", "detail", "process", "mode")
"""The log's text columns the analysis reads, other than case_id: read as categoricals."""
_READ = ("case_id", "seq", "kind", "at", "item", "touch_minutes", "transactions", "version", *_TEXT)
"""Every column the analysis reads; the log's other columns (lane, actor, outcome, channel,
from_step) are never touched."""


def compact_log(events: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """The columns of an event log that the observed metrics read, in compact types: ``kind``
    an enum, the other text but ``case_id`` categoricals (4 bytes a row, not 16 and up).

    Given a lazy scan (``pl.scan_parquet(path)``), only these columns are read, in streaming
    batches, so the log's other columns and its text never sit in memory whole. The result can
    be passed to :func:`observed_metrics` and :func:`per_case` like any log.

    Raises:
        ValueError: when the log lacks a column the analysis reads (an event-schema column
            other than lane, actor, outcome, channel and from_step).

    >>> log = pl.DataFrame({c: [None] for c in (*EVENT_COLUMNS, *_VERSION_KEYS, "mode")})
    >>> compact = compact_log(log.with_columns(kind=pl.lit("handoff"), step=pl.lit("a")))
    >>> compact["kind"].dtype == _KINDS, compact["step"].dtype, "lane" in compact.columns
    (True, Categorical, False)
    """
    return _typed(events, _TEXT)


def _typed(events: pl.DataFrame | pl.LazyFrame, text: tuple[str, ...]) -> pl.DataFrame:
    """The columns the analysis reads, ``kind`` as an enum and ``text`` as categoricals (a
    column already of that type is kept as it is); a lazy log is read in streaming batches."""
    frame = events.lazy()
    schema = frame.collect_schema()
    missing = [c for c in _READ if c not in schema]
    if missing:
        raise ValueError(f"event log lacks column(s) {', '.join(missing)}")
    typed = {
        c: pl.col(c).cast(pl.Categorical) for c in text if not isinstance(schema[c], pl.Categorical)
    }
    if schema["kind"] != _KINDS:
        typed["kind"] = pl.col("kind").cast(pl.String).cast(_KINDS, strict=False)
    selected = frame.select(typed.get(c, pl.col(c)) for c in _READ)
    if isinstance(events, pl.LazyFrame):
        return selected.collect(engine="streaming")
    return selected.collect()


@dataclass(frozen=True)
class _Log:
    """The prepared log every part of the analysis shares, made once per call.

    ``frame`` holds the columns the analysis reads, each case's events together in their log
    order, with the case code ``c`` (0, 1, … in that order) and the working minute ``wm`` in
    place of ``at``; ``rows`` the rows of each kind of event in :data:`_ROW_KINDS`, by its
    code (:class:`EventKind`'s order); ``starts`` each case's first row; ``done`` the completed
    steps in case and ``seq`` order; ``items`` one row per work item
    (:func:`~boflyt.analysis.observed_tables.item_table`).
    """

    frame: pl.DataFrame
    rows: dict[int, np.ndarray[Any, Any]]
    starts: np.ndarray[Any, Any]
    done: pl.DataFrame
    items: pl.DataFrame


def _grouped(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with each case's events together, in their log order, and its case code
    ``c``: 0, 1, … in that order. A log whose cases' events are together already (as the store
    and the importers give them) is neither moved nor hashed."""
    case_id = frame["case_id"]
    runs = case_id.rle_id()
    heads = case_id.gather(run_starts(runs.to_numpy()))
    if heads.n_unique() != heads.len():
        codes = case_id.cast(pl.String).cast(pl.Categorical).to_physical()
        frame = frame[np.argsort(codes.to_numpy(), kind="stable")]
        runs = frame["case_id"].rle_id()
    return frame.with_columns(runs.alias("c").set_sorted())


def _prepare(events: pl.DataFrame | pl.LazyFrame, calendar: WorkCalendar) -> _Log:
    """The log's columns that the analysis reads, grouped by case, with ``wm`` in place of
    ``at``; ``kind`` an enum, ``step`` and ``process`` categoricals.

    A lazy log is read as :func:`compact_log` (every text column a categorical); of a frame
    in memory only ``step`` and ``process`` are converted, the other columns shared as they
    are (no copy when its cases' events are together): the queries cast the few they need
    after choosing the rows they concern.
    """
    lazy = isinstance(events, pl.LazyFrame)
    frame = _grouped(_typed(events, _TEXT if lazy else ("step", "process")))
    frame = frame.select("c", working_minutes(frame["at"], calendar), pl.exclude("c", "at"))
    kinds = frame["kind"].to_physical().fill_null(255).to_numpy()
    rows = {kind_code(kind): np.flatnonzero(kinds == kind_code(kind)) for kind in _ROW_KINDS}
    starts = run_starts(frame["c"].to_numpy())
    return _Log(frame, rows, starts, _completed(frame), tables.item_table(frame, rows))


def _completed(log: pl.DataFrame) -> pl.DataFrame:
    """:func:`~boflyt.analysis.conformance.completed_paths` of a prepared log, without ``case_id``
    and with categorical text.

    Sorted by case and ``seq`` only when the log is not already in that order.
    """
    done = log.lazy().filter(pl.col("kind") == _DONE).select(
        "c", _int("seq"), pl.col("step").fill_null(pl.lit("?", pl.Categorical)), *_VERSION,
        pl.col("touch_minutes").cast(pl.Float64), _int("transactions"), _cat("org"),
    ).collect()  # fmt: skip
    order = done.select(_key("seq", _SEQ_SPAN)).to_series()
    return done if order.is_sorted() else done.sort(order)


def per_case(
    events: pl.DataFrame | pl.LazyFrame, *, calendar: WorkCalendar = DEFAULT_CALENDAR
) -> pl.DataFrame:
    """One row per case with its observed LEAN figures (definitions in :data:`CASE_METRICS`).

    Columns: case_id, process, version, mode, status, lead_days, touch_minutes, waiting_days,
    handoffs, transactions, rework, variant (the completed steps in order, joined by "→").

    Raises:
        ValueError: when the log lacks a column the analysis reads (an event-schema column
            other than lane, actor, outcome, channel and from_step).

    >>> import datetime as dt
    >>> t = dt.datetime(2025, 1, 6, 8)  # a Monday, 08:00
    >>> log = pl.DataFrame([
    ...     {"case_id": "c1", "seq": 1, "kind": "case_started", "at": t},
    ...     {"case_id": "c1", "seq": 2, "kind": "step_ready", "at": t, "step": "a", "item": 1},
    ...     {"case_id": "c1", "seq": 3, "kind": "step_completed", "step": "a", "item": 1,
    ...      "at": t + dt.timedelta(days=1), "touch_minutes": 30.0},
    ...     {"case_id": "c1", "seq": 4, "kind": "case_finished", "at": t + dt.timedelta(days=1)},
    ... ]).with_columns(process=pl.lit("p"), version=pl.lit(1), mode=pl.lit("imported"))
    >>> row = per_case(complete_columns(log)).row(0, named=True)
    >>> row["lead_days"], row["waiting_days"], row["variant"]
    (1.0, 0.9333333333333333, 'a')
    """
    return _per_case(_prepare(events, calendar), calendar).drop("c")


def _per_case(log: _Log, calendar: WorkCalendar) -> pl.DataFrame:
    per_day = calendar.minutes_per_day
    return case_table(log.frame, log.rows, log.starts, log.done, log.items, per_day)


def complete_columns(events: pl.DataFrame) -> pl.DataFrame:
    """Add the event-schema columns a hand-made or imported log lacks, as nulls."""
    return events.with_columns(
        pl.lit(None).alias(c) for c in EVENT_COLUMNS if c not in events.columns
    ).with_columns(pl.col("item").cast(pl.Int64), pl.col("transactions").cast(pl.Int64))


def observed_metrics(
    events: pl.DataFrame | pl.LazyFrame,
    *,
    version: Version | None = None,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> ObservedMetrics:
    """Every observed metric of an event log, grouped by process and version.

    Summaries, variants and workload cover finished cases; waits cover every item that has
    begun. With ``version``, the runs of that version are also checked for conformance.

    Raises:
        ValueError: when the log lacks a column the analysis reads (an event-schema column
            other than lane, actor, outcome, channel and from_step).

    >>> import datetime as dt
    >>> t = dt.datetime(2025, 1, 6, 8)
    >>> log = complete_columns(pl.DataFrame([
    ...     {"case_id": "c1", "seq": 1, "kind": "case_started", "at": t},
    ...     {"case_id": "c1", "seq": 2, "kind": "case_finished", "at": t + dt.timedelta(days=7)},
    ... ]).with_columns(process=pl.lit("p"), version=pl.lit(1), mode=pl.lit("live")))
    >>> observed_metrics(log).mean("lead_days", process="p", version=1)  # Mon -> next Mon
    5.0
    """
    per_day = calendar.minutes_per_day
    log = _prepare(events, calendar)
    cases = _per_case(log, calendar)
    lazy, items, done = cases.lazy(), log.items.lazy(), log.done.lazy()
    summary, waits, bottlenecks, variants, workload = pl.collect_all(
        [
            tables.summary_table(lazy, [m.key for m in CASE_METRICS]),
            tables.handoff_wait_table(
                log.frame, log.rows[kind_code(EventKind.HANDOFF)], log.items, per_day
            ),
            tables.bottleneck_table(items, per_day),
            tables.variant_table(lazy),
            tables.workload_table(log.done, cases),
        ]
    )
    names = lazy.select("c", "case_id")
    checked = None if version is None else conformance(done, version, case_ids=names)
    frame = cases.drop("c")
    return ObservedMetrics(frame, summary, waits, bottlenecks, variants, workload, checked)
