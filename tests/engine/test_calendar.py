"""The one working-time calendar: escalation, simulation and analysis count the same minutes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar, norwegian_holidays
from boflyt.engine.case.decide import StartCase, decide, overdue_items
from tests.factories import linear_version


def _ready_at(at: dt.datetime):
    """A linear case whose first item (``a``, one working day allowed) became ready at ``at``."""
    version = linear_version()
    return version, decide(version, None, StartCase("c1", "ann", "housing_office"), now=at).state


@pytest.mark.parametrize(
    ("ready", "deadline"),
    [
        (dt.datetime(2022, 5, 16, 10), dt.datetime(2022, 5, 18, 10)),  # Tuesday 17 May
        (dt.datetime(2025, 4, 16, 10), dt.datetime(2025, 4, 22, 10)),  # Easter: Thu–Mon
        (dt.datetime(2025, 12, 24, 10), dt.datetime(2025, 12, 29, 10)),  # Christmas
    ],
    ids=["17 May", "Easter", "Christmas"],
)
def test_escalation_does_not_count_holidays_as_working_days(ready, deadline) -> None:
    version, state = _ready_at(ready)
    (waiting,) = (item for item in state.items if item.step == "a")
    for at in (ready + dt.timedelta(days=1), deadline):
        assert overdue_items(version, state, now=at) == (), at
    late = deadline + dt.timedelta(minutes=1)
    assert overdue_items(version, state, now=late) == (waiting.number,)


def test_the_scalar_minutes_agree_with_the_polars_expression() -> None:
    rng = np.random.default_rng(5)
    base = np.datetime64("2025-03-25T00:00")  # across Easter, 1 and 17 May, Ascension, Whitsun
    stamps = base + rng.integers(0, 80 * 24 * 60, 400).astype("timedelta64[m]")
    frame = pl.DataFrame({"at": stamps.astype("datetime64[us]")})
    expected = frame.select(DEFAULT_CALENDAR.minutes_expr("at")).to_series().to_list()
    assert [DEFAULT_CALENDAR.minutes(at) for at in frame["at"]] == pytest.approx(expected)


@pytest.mark.parametrize("minutes", [0.0, 1.0, 449.0, 450.0, 451.0, 900.0, 3_375.5, 20_000.0])
def test_stamping_working_minutes_and_counting_them_back_agree(minutes: float) -> None:
    calendar = WorkCalendar(holidays=norwegian_holidays([2025]))
    origin = dt.date(2025, 4, 16)  # the day before Maundy Thursday
    first = calendar.to_datetime(origin, 0.0)
    at = calendar.to_datetime(origin, minutes)
    assert calendar.minutes(at) - calendar.minutes(first) == pytest.approx(minutes)
    assert calendar.is_working_day(at.date())


def test_a_calendar_without_holidays_counts_17_may() -> None:
    plain, norwegian = WorkCalendar(), DEFAULT_CALENDAR
    tuesday, wednesday = dt.datetime(2022, 5, 17, 12), dt.datetime(2022, 5, 18, 12)
    assert plain.minutes(wednesday) - plain.minutes(tuesday) == 450.0
    assert norwegian.minutes(wednesday) - norwegian.minutes(tuesday) == 240.0
