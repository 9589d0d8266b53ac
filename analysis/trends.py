"""KPI trends: a process's observed LEAN figures per calendar month, small groups suppressed.

"Is the LEAN gain holding?" — the figures of :mod:`boflyt.analysis.observed`, grouped by the
month each case *finished* in rather than by version:

* a case counts in the calendar month (UTC) of its ``case_finished`` event; running and
  cancelled cases count nowhere, so every figure of a month stands on the same cases;
* lead time is its median and 90th percentile (linear interpolation), in working days from
  ``case_started`` to ``case_finished``; handoffs and touch minutes are means per case;
* waiting per organisation pair is the median, in working days, from a handoff between two
  owning lanes to the start of the work item it handed to (the handoff rule of
  :func:`~boflyt.analysis.observed_tables.handoff_wait_table`), over that month's cases.

A month with fewer than ``min_cell`` cases shows no figure and no count; neither does an
organisation pair seen in fewer than ``min_cell`` of a month's cases. Every month from the
first to the last with a finished case has a row, so a quiet month is a gap, not a jump.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from boflyt.analysis.observed import observed_metrics
from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar
from boflyt.models.vocabulary import EventKind

__all__ = ["DEFAULT_MIN_CELL", "MONTH_FIGURES", "Trends", "monthly_trends"]

DEFAULT_MIN_CELL = 5
"""The smallest group of cases any figure is shown for."""

MONTH_FIGURES = ("lead_median_days", "lead_p90_days", "handoffs_per_case", "touch_minutes_per_case")
"""The per-month figures of :attr:`Trends.months`, in display order."""

_FINISH = EventKind.CASE_FINISHED.value
_HANDOFF = EventKind.HANDOFF.value
_MONTH_SCHEMA = {"month": pl.Date, "cases": pl.Int64, "suppressed": pl.Boolean} | {
    name: pl.Float64 for name in MONTH_FIGURES
}
_VERSIONS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "month": pl.Date,
    "versions": pl.List(pl.Int64),
}
_WAIT_SCHEMA = {
    "month": pl.Date,
    "from_lane": pl.String,
    "to_lane": pl.String,
    "cases": pl.Int64,
    "median_days": pl.Float64,
    "suppressed": pl.Boolean,
}


@dataclass(frozen=True)
class Trends:
    """The monthly figures of one process's event log.

    In a suppressed row every figure *and* the case count are null: the page cannot show a
    small group by mistake.
    """

    min_cell: int
    months: pl.DataFrame
    """month (first day), cases, suppressed, then :data:`MONTH_FIGURES`; oldest first."""
    waits: pl.DataFrame
    """month, from_lane, to_lane, cases (with a handoff of that pair), median_days,
    suppressed; by month, then pair."""
    versions: pl.DataFrame
    """month, versions (the version numbers the month's cases ran on, ascending); only for
    months not suppressed."""

    @property
    def shown(self) -> int:
        """How many months show figures."""
        return int((~self.months["suppressed"]).sum())


def monthly_trends(
    events: pl.DataFrame,
    *,
    min_cell: int = DEFAULT_MIN_CELL,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> Trends:
    """The monthly KPI trends of an event log of one process (module doc: the definitions).

    Raises:
        ValueError: ``min_cell`` is below 1, the log lacks a column of the event schema, or
            it holds more than one process.

    >>> import datetime as dt
    >>> from boflyt.analysis.observed import complete_columns
    >>> t = dt.datetime(2025, 1, 6, 8)  # a Monday
    >>> log = complete_columns(pl.DataFrame([
    ...     {"case_id": "c1", "seq": 1, "kind": "case_started", "at": t},
    ...     {"case_id": "c1", "seq": 2, "kind": "case_finished", "at": t + dt.timedelta(days=7)},
    ... ]).with_columns(process=pl.lit("p"), version=pl.lit(1), mode=pl.lit("live")))
    >>> monthly_trends(log, min_cell=1).months.select("month", "cases", "lead_median_days").row(0)
    (datetime.date(2025, 1, 1), 1, 5.0)
    >>> monthly_trends(log).months["suppressed"].to_list()  # one case: fewer than 5
    [True]
    """
    if min_cell < 1:
        raise ValueError(f"min_cell={min_cell} is not allowed; allowed: a whole number ≥ 1")
    processes = events["process"].unique().to_list() if "process" in events.columns else []
    if len(processes) > 1:
        raise ValueError(
            f"the log holds {len(processes)} processes ({', '.join(sorted(processes))}); "
            "allowed: the events of one process"
        )
    finished = _finish_months(events)
    if finished.is_empty():
        return Trends(
            min_cell,
            pl.DataFrame(schema=_MONTH_SCHEMA),
            pl.DataFrame(schema=_WAIT_SCHEMA),
            pl.DataFrame(schema=_VERSIONS_SCHEMA),
        )
    log = events.join(finished, on="case_id", how="inner")
    versions = _versions(log)
    by_month = log.with_columns(version=_month_code(pl.col("month"))).drop("month")
    metrics = observed_metrics(by_month, calendar=calendar)
    months = _months(metrics.summary, finished, min_cell)
    waits = _waits(metrics.handoff_waits, log, months, min_cell)
    shown = months.filter(~pl.col("suppressed")).select("month")
    return Trends(min_cell, months, waits, versions.join(shown, on="month", how="semi"))


def _finish_months(events: pl.DataFrame) -> pl.DataFrame:
    """case_id, month: the first day of the UTC month each finished case finished in."""
    return (
        events.filter(pl.col("kind").cast(pl.String) == _FINISH)
        .group_by("case_id")
        .agg(pl.col("at").max().dt.date().dt.truncate("1mo").alias("month"))
    )


def _month_code(month: pl.Expr) -> pl.Expr:
    """A month as one integer, ``yyyymm``: it travels in the analysis's ``version`` column."""
    return (month.dt.year() * 100 + month.dt.month()).cast(pl.Int64)


def _month_of_code(code: pl.Expr) -> pl.Expr:
    return pl.date(code // 100, code % 100, 1)


def _versions(log: pl.DataFrame) -> pl.DataFrame:
    """month, versions: the distinct versions the month's cases ran on."""
    return (
        log.group_by("month")
        .agg(pl.col("version").cast(pl.Int64).unique().sort().alias("versions"))
        .sort("month")
    )


def _months(summary: pl.DataFrame, finished: pl.DataFrame, min_cell: int) -> pl.DataFrame:
    """One row per calendar month from the first to the last, small months suppressed."""
    wide = summary.with_columns(month=_month_of_code(pl.col("version"))).pivot(
        on="metric", index=["month", "cases"], values=["median", "p90", "mean"]
    )
    figures = wide.select(
        "month",
        pl.col("cases").cast(pl.Int64),
        pl.col("median_lead_days").alias("lead_median_days"),
        pl.col("p90_lead_days").alias("lead_p90_days"),
        pl.col("mean_handoffs").alias("handoffs_per_case"),
        pl.col("mean_touch_minutes").alias("touch_minutes_per_case"),
    )
    first, last = finished["month"].min(), finished["month"].max()
    assert isinstance(first, dt.date) and isinstance(last, dt.date)
    grid = pl.DataFrame({"month": pl.date_range(first, last, "1mo", eager=True)})
    rows = grid.join(figures, on="month", how="left").with_columns(pl.col("cases").fill_null(0))
    small = pl.col("cases") < min_cell
    return rows.select(
        "month",
        pl.when(small).then(None).otherwise(pl.col("cases")).alias("cases"),
        small.alias("suppressed"),
        *(pl.when(small).then(None).otherwise(pl.col(n)).alias(n) for n in MONTH_FIGURES),
    ).sort("month")


def _waits(
    handoff_waits: pl.DataFrame, log: pl.DataFrame, months: pl.DataFrame, min_cell: int
) -> pl.DataFrame:
    """Median wait per month and organisation pair; suppressed when the month is or when the
    pair was handed between in fewer than ``min_cell`` of the month's cases."""
    cases = (
        log.filter(pl.col("kind").cast(pl.String) == _HANDOFF)
        .group_by("month", pl.col("from_lane").cast(pl.String), pl.col("to_lane").cast(pl.String))
        .agg(pl.col("case_id").n_unique().cast(pl.Int64).alias("cases"))
    )
    medians = handoff_waits.select(
        _month_of_code(pl.col("version")).alias("month"), "from_lane", "to_lane", "median_days"
    )
    small = (pl.col("cases") < min_cell) | pl.col("_month_small")
    return (
        cases.join(medians, on=["month", "from_lane", "to_lane"], how="left")
        .join(months.select("month", pl.col("suppressed").alias("_month_small")), on="month")
        .select(
            "month", "from_lane", "to_lane",
            pl.when(small).then(None).otherwise(pl.col("cases")).alias("cases"),
            pl.when(small).then(None).otherwise(pl.col("median_days")).alias("median_days"),
            small.alias("suppressed"),
        )
        .sort("month", "from_lane", "to_lane")
    )  # fmt: skip
