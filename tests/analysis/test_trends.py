"""Monthly KPI trends on hand-made logs whose figures are worked out by hand.

Each case starts on a Monday at 08:00, is handed from the housing office to NAV at once, waits
``wait`` working days for NAV to begin step ``b`` (at 08:00), is touched ``touch`` minutes and
finishes ``lead`` working days after its start (08:00, the same week): its lead time is exactly
``lead`` working days, its wait ``wait``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from boflyt.analysis.observed import complete_columns
from boflyt.analysis.trends import MONTH_FIGURES, monthly_trends

JAN, FEB, MAR, APR = (dt.date(2025, m, 1) for m in (1, 2, 3, 4))
MONDAYS = {JAN: dt.datetime(2025, 1, 6, 8), FEB: dt.datetime(2025, 2, 3, 8),
           MAR: dt.datetime(2025, 3, 3, 8), APR: dt.datetime(2025, 4, 7, 8)}  # fmt: skip


def case(name: str, month: dt.date, *, lead: int, wait: int, touch: float = 60.0,
         version: int = 1, finish: bool = True) -> list[dict[str, Any]]:  # fmt: skip
    """The events of one case (module doc); ``finish=False`` leaves it running."""
    t = MONDAYS[month]
    day = dt.timedelta(days=1)
    hand = {"from_step": "a", "to_step": "b", "from_lane": "housing_office", "to_lane": "nav"}
    rows = [
        {"kind": "case_started", "at": t},
        {"kind": "handoff", "at": t, **hand},
        {"kind": "step_ready", "at": t, "step": "b", "item": 1},
        {"kind": "step_started", "at": t + wait * day, "step": "b", "item": 1},
        {"kind": "step_completed", "at": t + wait * day, "step": "b", "item": 1,
         "touch_minutes": touch, "org": "nav", "lane": "nav"},
    ]  # fmt: skip
    if finish:
        rows.append({"kind": "case_finished", "at": t + lead * day})
    return [{"case_id": name, "seq": i, "version": version, **r} for i, r in enumerate(rows, 1)]


def log(*cases: list[dict[str, Any]]) -> pl.DataFrame:
    frame = pl.DataFrame([row for rows in cases for row in rows], infer_schema_length=None)
    return complete_columns(frame).with_columns(process=pl.lit("p"), mode=pl.lit("live"))


def month_row(trends_months: pl.DataFrame, month: dt.date) -> dict[str, Any]:
    return trends_months.filter(pl.col("month") == month).row(0, named=True)


def test_lead_time_median_and_p90_per_month() -> None:
    leads = [1, 2, 3, 4, 4]  # median 3; p90 = 4 (linear between the 4th and 5th value)
    jan = [case(f"j{i}", JAN, lead=lead, wait=1) for i, lead in enumerate(leads)]
    feb = [case(f"f{i}", FEB, lead=2, wait=1) for i in range(6)]
    row = month_row(monthly_trends(log(*jan, *feb)).months, JAN)
    assert (row["cases"], row["lead_median_days"], row["lead_p90_days"]) == (5, 3.0, 4.0)
    assert month_row(monthly_trends(log(*jan, *feb)).months, FEB)["lead_median_days"] == 2.0


def test_p90_interpolates_between_cases() -> None:
    leads = [1, 1, 1, 1, 1, 1, 1, 1, 2, 4]  # sorted; p90 at rank 8.1 → 2 + 0.1 × (4 − 2)
    months = monthly_trends(log(*(case(f"c{i}", JAN, lead=v, wait=0) for i, v in enumerate(leads))))
    assert month_row(months.months, JAN)["lead_p90_days"] == pytest.approx(2.2)


def test_handoffs_touch_and_pair_wait_per_month() -> None:
    cases = [case(f"c{i}", JAN, lead=4, wait=w, touch=t)
             for i, (w, t) in enumerate([(1, 30), (1, 60), (2, 60), (3, 90), (3, 60)])]  # fmt: skip
    trends = monthly_trends(log(*cases))
    row = month_row(trends.months, JAN)
    assert row["handoffs_per_case"] == 1.0
    assert row["touch_minutes_per_case"] == 60.0
    wait = trends.waits.row(0, named=True)
    assert (wait["from_lane"], wait["to_lane"], wait["cases"]) == ("housing_office", "nav", 5)
    assert wait["median_days"] == 2.0


def test_a_small_month_shows_no_figure_nor_count() -> None:
    jan = [case(f"j{i}", JAN, lead=2, wait=1) for i in range(5)]
    feb = [case(f"f{i}", FEB, lead=2, wait=1) for i in range(4)]  # 4 < 5
    trends = monthly_trends(log(*jan, *feb))
    feb_row = month_row(trends.months, FEB)
    assert feb_row["suppressed"] and feb_row["cases"] is None
    assert all(feb_row[name] is None for name in MONTH_FIGURES)
    feb_wait = trends.waits.filter(pl.col("month") == FEB).row(0, named=True)
    assert feb_wait["suppressed"] and feb_wait["cases"] is None and feb_wait["median_days"] is None
    assert not month_row(trends.months, JAN)["suppressed"]
    assert trends.shown == 1


def test_minimum_cell_size_is_configurable() -> None:
    feb = [case(f"f{i}", FEB, lead=2, wait=1) for i in range(4)]
    assert month_row(monthly_trends(log(*feb), min_cell=4).months, FEB)["cases"] == 4
    assert month_row(monthly_trends(log(*feb), min_cell=5).months, FEB)["cases"] is None


def test_a_month_without_cases_is_a_suppressed_gap() -> None:
    jan = [case(f"j{i}", JAN, lead=2, wait=1) for i in range(5)]
    mar = [case(f"m{i}", MAR, lead=3, wait=1) for i in range(5)]
    months = monthly_trends(log(*jan, *mar)).months
    assert months["month"].to_list() == [JAN, FEB, MAR]
    assert months["suppressed"].to_list() == [False, True, False]


def test_running_cases_count_nowhere_and_a_case_counts_where_it_finished() -> None:
    jan = [case(f"j{i}", JAN, lead=2, wait=1) for i in range(5)]
    running = [case(f"r{i}", FEB, lead=2, wait=1, finish=False) for i in range(9)]
    months = monthly_trends(log(*jan, *running)).months
    assert months["month"].to_list() == [JAN]
    assert months["cases"].to_list() == [5]


def test_the_versions_each_shown_month_ran_on() -> None:
    jan = [case(f"j{i}", JAN, lead=4, wait=1, version=1 + i % 2) for i in range(5)]
    feb = [case(f"f{i}", FEB, lead=2, wait=1, version=2) for i in range(3)]
    versions = monthly_trends(log(*jan, *feb)).versions
    assert versions.to_dicts() == [{"month": JAN, "versions": [1, 2]}]  # February suppressed


def test_a_pair_seen_in_few_cases_is_suppressed_even_in_a_shown_month() -> None:
    jan = [case(f"j{i}", JAN, lead=4, wait=1) for i in range(5)]
    back = {"kind": "handoff", "at": MONDAYS[JAN], "from_step": "b", "to_step": "a",
            "from_lane": "nav", "to_lane": "housing_office"}  # fmt: skip
    jan[0] = [*jan[0][:-1], {"case_id": "j0", "seq": 99, "version": 1, **back}, jan[0][-1]]
    waits = monthly_trends(log(*jan)).waits
    rare = waits.filter(pl.col("from_lane") == "nav").row(0, named=True)
    assert rare["suppressed"] and rare["median_days"] is None
    assert not waits.filter(pl.col("from_lane") == "housing_office")["suppressed"][0]


def test_an_empty_log_has_no_months() -> None:
    trends = monthly_trends(log(case("r", JAN, lead=1, wait=0, finish=False)))
    assert trends.months.is_empty() and trends.waits.is_empty() and trends.shown == 0


@pytest.mark.parametrize(
    ("frame", "min_cell", "message"),
    [
        (None, 0, "min_cell=0 is not allowed"),
        ("two", 5, "the log holds 2 processes"),
    ],
)
def test_bad_input_is_refused(frame: str | None, min_cell: int, message: str) -> None:
    events = log(case("c", JAN, lead=1, wait=0))
    if frame == "two":
        events = pl.concat([events, events.with_columns(process=pl.lit("q"))])
    with pytest.raises(ValueError, match=message):
        monthly_trends(events, min_cell=min_cell)
