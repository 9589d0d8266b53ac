"""LEAN metrics observed in an event log: per case, per version, vectorised with polars.

Works on any event log in our schema — live, simulated or imported alike: a polars frame with
the columns of :data:`models.events.EVENT_COLUMNS` plus ``process`` (str), ``version`` (int) and
``mode`` (str); ``at`` is a naive UTC datetime. Durations are *working* time, measured with a
:class:`~analysis.calendar.WorkCalendar` (1 working day = 450 minutes by default). No Python
loop runs per event or per case; every figure is a polars expression over the whole log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from analysis.calendar import DEFAULT_CALENDAR, WorkCalendar
from analysis.conformance import Conformance, conformance
from analysis.design import Metric
from models.definition import Version
from models.events import EVENT_COLUMNS
from models.vocabulary import EventKind, RunStatus

__all__ = [
    "CASE_METRICS",
    "ObservedMetrics",
    "complete_columns",
    "observed_metrics",
    "per_case",
    "working_minutes",
]

_READY, _STARTED = EventKind.STEP_READY.value, EventKind.STEP_STARTED.value
_DONE, _HANDOFF = EventKind.STEP_COMPLETED.value, EventKind.HANDOFF.value
_BEGIN, _FINISH = EventKind.CASE_STARTED.value, EventKind.CASE_FINISHED.value
_CANCEL = EventKind.CASE_CANCELLED.value
_KIND = pl.col("kind")
_VERSION_KEYS = ["process", "version"]

CASE_METRICS: tuple[Metric, ...] = (
    Metric("lead_days", "Gjennomløpstid", "Lead time", "wd",
           "Working days from case_started to case_finished (or case_cancelled; for a running "
           "case, to its last event)."),
    Metric("touch_minutes", "Arbeidstid", "Touch time", "min",
           "Σ touch minutes recorded on step_completed events."),
    Metric("waiting_days", "Ventetid", "Waiting time", "wd",
           "Σ over work items of working time from step_ready to step_started (or to "
           "step_completed minus its touch minutes when the item has no start event)."),
    Metric("handoffs", "Overleveringer", "Handoffs", "count",
           "Number of handoff events (the case moved between owning lanes)."),
    Metric("transactions", "Transaksjoner", "Transactions", "count",
           "Handoffs + Σ transactions recorded on step_completed events (the steps' extra "
           "exchanges) — the same definition as the design metric."),
    Metric("rework", "Omarbeid", "Rework", "count",
           "Number of distinct steps completed more than once in the case."),
)  # fmt: skip
"""The per-case metrics, in display order; one definition each (quoted in the README)."""


@dataclass(frozen=True)
class ObservedMetrics:
    """Observed metrics of an event log; every table carries ``process`` and ``version``."""

    cases: pl.DataFrame
    """:func:`per_case` of the whole log."""
    summary: pl.DataFrame
    """process, version, metric, cases, mean, median, p90 — over finished cases."""
    handoff_waits: pl.DataFrame
    """process, version, from_lane, to_lane, handoffs, mean_days, median_days: working days
    from a handoff to the start of the step it handed to."""
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


def working_minutes(frame: pl.LazyFrame, calendar: WorkCalendar) -> pl.LazyFrame:
    """Add ``wm``: working minutes since the calendar's epoch (== ``calendar.minutes_expr``).

    The calendar is evaluated once per distinct date, then joined back: a log has far fewer
    dates than events.
    """
    day = pl.col("at").dt.date()
    days = (
        frame.select(day.alias("_day"))
        .unique()
        .with_columns(
            calendar.minutes_expr(pl.col("_day").cast(pl.Datetime("us"))).alias("_base"),
            calendar.minutes_expr(
                (pl.col("_day") + pl.duration(days=1)).cast(pl.Datetime("us"))
            ).alias("_next"),
        )
    )
    at = pl.col("at")
    minute = at.dt.hour().cast(pl.Float64) * 60 + at.dt.minute() + at.dt.second() / 60
    within = (minute - calendar.start_hour * 60).clip(0.0, calendar.minutes_per_day)
    open_day = pl.col("_next") > pl.col("_base")
    return (
        frame.with_columns(day.alias("_day"))
        .join(days, on="_day", how="left", maintain_order="left")
        .with_columns((pl.col("_base") + pl.when(open_day).then(within).otherwise(0.0)).alias("wm"))
        .drop("_day", "_base", "_next")
    )


def _prepare(events: pl.DataFrame, calendar: WorkCalendar) -> pl.LazyFrame:
    missing = [c for c in (*EVENT_COLUMNS, *_VERSION_KEYS, "mode") if c not in events.columns]
    if missing:
        raise ValueError(f"event log lacks column(s) {', '.join(missing)}")
    frame = events.lazy().select(
        "case_id", "seq", pl.col("kind").cast(pl.String), "at", "step", "item", "org",
        pl.col("touch_minutes").cast(pl.Float64), pl.col("transactions").cast(pl.Int64),
        "to_step", "from_lane", "to_lane", "process", pl.col("version").cast(pl.Int64), "mode",
    )  # fmt: skip
    return working_minutes(frame, calendar)


def _items(log: pl.LazyFrame) -> pl.LazyFrame:
    """One row per work item: its step, first seq, ready / start / completion and wait minutes."""
    done = _KIND == _DONE
    started = pl.col("wm").filter(_KIND == _STARTED).min()
    completed = pl.col("wm").filter(done).min()
    touch = pl.col("touch_minutes").filter(done).sum()
    ready = pl.col("wm").filter(_KIND == _READY).min()
    items = (
        log.filter(_KIND.is_in([_READY, _STARTED, _DONE]) & pl.col("item").is_not_null())
        .group_by("case_id", "item")
        .agg(
            pl.col("step").first(),
            pl.col("process").first(),
            pl.col("version").first(),
            pl.col("seq").min().alias("first_seq"),
            ready.alias("ready"),
            started.alias("started"),
            completed.alias("completed"),
            touch.alias("touch"),
        )
    )
    waited = pl.coalesce(
        pl.col("started") - pl.col("ready"),
        pl.col("completed") - pl.col("ready") - pl.col("touch"),
    )
    return items.with_columns(
        waited.clip(lower_bound=0.0).alias("wait"),
        pl.coalesce("started", "completed").alias("begun"),
    )


def _cases(log: pl.LazyFrame, calendar: WorkCalendar) -> pl.LazyFrame:
    done = _KIND == _DONE
    closed = _KIND.is_in([_FINISH, _CANCEL])
    status = (
        pl.when((_KIND == _FINISH).any())
        .then(pl.lit(RunStatus.FINISHED.value))
        .when((_KIND == _CANCEL).any())
        .then(pl.lit(RunStatus.CANCELLED.value))
        .otherwise(pl.lit(RunStatus.RUNNING.value))
    )
    first = pl.coalesce(pl.col("wm").filter(_KIND == _BEGIN).min(), pl.col("wm").min())
    last = pl.coalesce(pl.col("wm").filter(closed).max(), pl.col("wm").max())
    steps = pl.col("step").filter(done)
    handoffs = (_KIND == _HANDOFF).sum().cast(pl.Int64)
    return log.group_by("case_id").agg(
        pl.col("process").first(), pl.col("version").first(), pl.col("mode").first(),
        status.alias("status"),
        ((last - first) / calendar.minutes_per_day).alias("lead_days"),
        pl.col("touch_minutes").filter(done).sum().alias("touch_minutes"),
        handoffs.alias("handoffs"),
        (handoffs + pl.col("transactions").filter(done).sum()).alias("transactions"),
        steps.filter(steps.is_duplicated()).n_unique().cast(pl.Int64).alias("rework"),
        steps.sort_by(pl.col("seq").filter(done)).str.join("→").alias("variant"),
    )  # fmt: skip


def per_case(events: pl.DataFrame, *, calendar: WorkCalendar = DEFAULT_CALENDAR) -> pl.DataFrame:
    """One row per case with its observed LEAN figures (definitions in :data:`CASE_METRICS`).

    Columns: case_id, process, version, mode, status, lead_days, touch_minutes, waiting_days,
    handoffs, transactions, rework, variant (the completed steps in order, joined by "→").

    Raises:
        ValueError: when the log lacks a column of the event schema.

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
    log = _prepare(events, calendar)
    return _per_case(log, _items(log), calendar).collect()


def _per_case(log: pl.LazyFrame, items: pl.LazyFrame, calendar: WorkCalendar) -> pl.LazyFrame:
    waits = items.group_by("case_id").agg(
        (pl.col("wait").sum() / calendar.minutes_per_day).alias("waiting_days")
    )
    return (
        _cases(log, calendar)
        .join(waits, on="case_id", how="left")
        .with_columns(pl.col("waiting_days").fill_null(0.0))
        .select(
            "case_id",
            "process",
            "version",
            "mode",
            "status",
            "lead_days",
            "touch_minutes",
            "waiting_days",
            "handoffs",
            "transactions",
            "rework",
            "variant",
        )
        .sort("case_id")
    )


def complete_columns(events: pl.DataFrame) -> pl.DataFrame:
    """Add the event-schema columns a hand-made or imported log lacks, as nulls."""
    return events.with_columns(
        pl.lit(None).alias(c) for c in EVENT_COLUMNS if c not in events.columns
    ).with_columns(pl.col("item").cast(pl.Int64), pl.col("transactions").cast(pl.Int64))


def _summary(cases: pl.LazyFrame) -> pl.LazyFrame:
    keys = [m.key for m in CASE_METRICS]
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


def _handoff_waits(log: pl.LazyFrame, items: pl.LazyFrame, per_day: float) -> pl.LazyFrame:
    """Working days from each handoff to the start of the next work item of its target step."""
    handed = log.filter(_KIND == _HANDOFF).select(
        "case_id", "seq", pl.col("to_step").alias("step"), "from_lane", "to_lane", "wm",
        *_VERSION_KEYS,
    )  # fmt: skip
    targets = items.select("case_id", "step", "first_seq", "begun")
    days = ((pl.col("begun") - pl.col("wm")).sort_by("first_seq").first() / per_day).alias("days")
    return (
        handed.join(targets, on=["case_id", "step"], how="inner")
        .filter(pl.col("first_seq") > pl.col("seq"))
        .group_by("case_id", "seq")
        .agg(*(pl.col(c).first() for c in (*_VERSION_KEYS, "from_lane", "to_lane")), days)
        .group_by(*_VERSION_KEYS, "from_lane", "to_lane")
        .agg(
            pl.len().alias("handoffs"),
            pl.col("days").mean().alias("mean_days"),
            pl.col("days").median().alias("median_days"),
        )
        .sort(*_VERSION_KEYS, "mean_days", descending=[False, False, True])
    )


def _bottlenecks(items: pl.LazyFrame, per_day: float) -> pl.LazyFrame:
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


def _variants(cases: pl.LazyFrame) -> pl.LazyFrame:
    count = pl.len().alias("cases")
    return (
        cases.filter(pl.col("status") == RunStatus.FINISHED.value)
        .group_by(*_VERSION_KEYS, "variant")
        .agg(count)
        .with_columns((pl.col("cases") / pl.col("cases").sum().over(_VERSION_KEYS)).alias("share"))
        .sort(*_VERSION_KEYS, "cases", "variant", descending=[False, False, True, False])
    )


def _workload(log: pl.LazyFrame, cases: pl.LazyFrame) -> pl.LazyFrame:
    finished = cases.filter(pl.col("status") == RunStatus.FINISHED.value)
    counts = finished.group_by(_VERSION_KEYS).agg(pl.len().alias("_cases"))
    return (
        log.filter((_KIND == _DONE) & pl.col("org").is_not_null())
        .join(finished.select("case_id"), on="case_id", how="semi")
        .group_by(*_VERSION_KEYS, "org")
        .agg(pl.col("touch_minutes").sum().alias("_touch"))
        .join(counts, on=_VERSION_KEYS)
        .select(
            *_VERSION_KEYS,
            "org",
            (pl.col("_touch") / pl.col("_cases")).alias("touch_minutes_per_case"),
        )
        .sort(*_VERSION_KEYS, "touch_minutes_per_case", descending=[False, False, True])
    )


def observed_metrics(
    events: pl.DataFrame,
    *,
    version: Version | None = None,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> ObservedMetrics:
    """Every observed metric of an event log, grouped by process and version.

    Summaries, variants and workload cover finished cases; waits cover every item that has
    begun. With ``version``, the runs of that version are also checked for conformance.

    Raises:
        ValueError: when the log lacks a column of the event schema.

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
    frame, items = log.collect().lazy(), None
    items = _items(frame).collect().lazy()
    cases = _per_case(frame, items, calendar).collect()
    lazy = cases.lazy()
    summary, waits, bottlenecks, variants, workload = pl.collect_all(
        [
            _summary(lazy),
            _handoff_waits(frame, items, per_day),
            _bottlenecks(items, per_day),
            _variants(lazy),
            _workload(frame, lazy),
        ]
    )
    checked = None if version is None else conformance(events, version)
    return ObservedMetrics(cases, summary, waits, bottlenecks, variants, workload, checked)
