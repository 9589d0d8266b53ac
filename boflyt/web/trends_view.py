"""What the KPI trends page shows, in the page language: table rows, charts, publications.

:func:`trends_view` turns :class:`~boflyt.analysis.trends.Trends` into text the template only
places: every number formatted for the language, every suppressed cell "–" (never its count),
each chart an inline SVG (:mod:`boflyt.web.trends_chart`) with a line left out where a month is
suppressed, and each published version marked at its date (the version file's ``date``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl
from markupsafe import Markup

from boflyt.analysis.trends import Trends
from boflyt.models.definition import Version
from boflyt.models.vocabulary import VersionStatus
from boflyt.models.words import Language, format_number, word
from boflyt.web.trends_chart import Mark, Series, line_chart, month_position

__all__ = ["DASH", "MonthRow", "Publication", "TrendsView", "trends_view"]

DASH = "–"
"""What a suppressed cell shows."""


@dataclass(frozen=True)
class MonthRow:
    """One month of the main table; every figure already text."""

    label: str
    cases: str
    lead_median: str
    lead_p90: str
    handoffs: str
    touch: str
    versions: str
    suppressed: bool


@dataclass(frozen=True)
class Publication:
    """A version published (or since retired) and the date of its file."""

    version: int
    date: dt.date
    status: VersionStatus


@dataclass(frozen=True)
class TrendsView:
    """Everything the trends page of one process shows."""

    process: str
    name: str
    min_cell: int
    months: list[MonthRow]
    pairs: list[str]
    """The organisation pairs' labels ("Boligkontoret → NAV"): the columns of the wait table."""
    waits: list[tuple[str, list[str]]]
    """Per month: its label and the median wait of each pair (or "–")."""
    charts: list[tuple[str, Markup]]
    """Each chart's heading and its SVG."""
    publications: list[Publication]

    @property
    def empty(self) -> bool:
        """No finished registered case at all."""
        return not self.months

    @property
    def suppressed(self) -> bool:
        """Whether any cell shows "–" (the page then explains why)."""
        return any(row.suppressed for row in self.months) or any(
            DASH in cells for _, cells in self.waits
        )


def trends_view(
    trends: Trends,
    *,
    process: str,
    name: str,
    versions: Sequence[Version],
    lane: Callable[[str], str],
    lang: Language,
) -> TrendsView:
    """The page's view of ``trends``; ``lane`` names an organisation in ``lang``."""
    months = trends.months
    dates: list[dt.date] = months["month"].to_list()
    published = [
        Publication(v.version, v.date, v.status)
        for v in versions
        if v.status in (VersionStatus.PUBLISHED, VersionStatus.RETIRED)
    ]
    pairs = _pairs(trends.waits)
    wait_values = {pair: _pair_values(trends.waits, pair, dates) for pair in pairs}
    labels = [f"{lane(a)} → {lane(b)}" for a, b in pairs]
    wait_rows = [
        (_month(d, lang), [_num(wait_values[pair][i], lang) for pair in pairs])
        for i, d in enumerate(dates)
    ]
    charts = _charts(trends, dates, labels, list(wait_values.values()), published, lang)
    return TrendsView(process, name, trends.min_cell, _rows(trends, lang), labels, wait_rows,
                      charts, published)  # fmt: skip


def _rows(trends: Trends, lang: Language) -> list[MonthRow]:
    versions = {
        row["month"]: ", ".join(f"v{v}" for v in row["versions"])
        for row in trends.versions.iter_rows(named=True)
    }
    return [
        MonthRow(
            label=_month(row["month"], lang),
            cases=DASH if row["cases"] is None else format_number(row["cases"], lang, 0),
            lead_median=_num(row["lead_median_days"], lang),
            lead_p90=_num(row["lead_p90_days"], lang),
            handoffs=_num(row["handoffs_per_case"], lang),
            touch=_num(row["touch_minutes_per_case"], lang, 0),
            versions=versions.get(row["month"], DASH),
            suppressed=row["suppressed"],
        )
        for row in trends.months.iter_rows(named=True)
    ]


def _formatter(lang: Language) -> Callable[[float], str]:
    """Numbers of an axis (round by construction), as many decimals as they need, written the
    way ``lang`` writes them."""
    return lambda value: format_number(round(value, 6), lang, None)


def _num(value: float | None, lang: Language, digits: int = 1) -> str:
    return DASH if value is None else format_number(value, lang, digits)


def _month(day: dt.date, lang: Language, *, short: bool = False) -> str:
    """``jan. 2025`` / ``Jan 2025`` (short: ``jan. 25``)."""
    name = word("web_trends.month_names", lang).split()[day.month - 1]
    return f"{name} {day.year % 100:02d}" if short else f"{name} {day.year}"


def _pairs(waits: pl.DataFrame) -> list[tuple[str, str]]:
    """The organisation pairs with at least one month shown, by name."""
    shown = waits.filter(~pl.col("suppressed")).select("from_lane", "to_lane").unique()
    return sorted(shown.iter_rows())


def _pair_values(
    waits: pl.DataFrame, pair: tuple[str, str], dates: list[dt.date]
) -> list[float | None]:
    rows = waits.filter((pl.col("from_lane") == pair[0]) & (pl.col("to_lane") == pair[1]))
    by_month = dict(zip(rows["month"].to_list(), rows["median_days"].to_list(), strict=True))
    return [by_month.get(d) for d in dates]


def _charts(
    trends: Trends,
    dates: list[dt.date],
    pair_labels: list[str],
    pair_values: list[list[float | None]],
    published: list[Publication],
    lang: Language,
) -> list[tuple[str, Markup]]:
    """The four charts: lead time (median, p90), handoffs, touch time, waits per pair."""
    if not dates:
        return []

    def tw(key: str) -> str:
        return word(f"web_trends.{key}", lang)

    months = trends.months
    axis = [_month(d, lang, short=True) for d in dates]
    end = dates[-1]
    marks = [
        Mark(month_position(p.date, dates[0]), f"v{p.version}")
        for p in published
        if dates[0] <= p.date and month_position(p.date, end) < 1
    ]
    values: Callable[[str], list[float | None]] = lambda c: months[c].to_list()  # noqa: E731
    specs = [
        ("chart_lead", [Series(tw("series_median"), values("lead_median_days")),
                        Series(tw("series_p90"), values("lead_p90_days"))]),
        ("chart_handoffs", [Series(tw("col_handoffs"), values("handoffs_per_case"))]),
        ("chart_touch", [Series(tw("col_touch"), values("touch_minutes_per_case"))]),
        ("chart_waits", [Series(label, vals) for label, vals in zip(pair_labels, pair_values,
                                                                     strict=True)]),
    ]  # fmt: skip
    charts = []
    for key, series in specs:
        if not series:
            continue
        svg = line_chart(
            axis, series, title=tw(key), description=tw("chart_description"), marks=marks,
            number=_formatter(lang),
        )  # fmt: skip
        charts.append((tw(key), svg))
    return charts
