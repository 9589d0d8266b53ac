"""Working time: the calendar that turns working minutes into dates and back.

One working day is ``hours_per_day`` hours (7.5 by default) starting at ``start_hour`` on the
calendar's working weekdays, minus holidays. Simulation runs on a clock of working minutes and
stamps events with :meth:`WorkCalendar.to_datetime`; the observed analysis measures durations
in working time with :meth:`WorkCalendar.minutes_expr`, so both agree. Timestamps are naive UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl

__all__ = ["DEFAULT_CALENDAR", "WorkCalendar", "easter_sunday", "norwegian_holidays"]

_EPOCH = dt.date(1970, 1, 5)  # a Monday: working minute 0 of the observed analysis


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday (Gregorian, anonymous algorithm).

    >>> easter_sunday(2025)
    datetime.date(2025, 4, 20)
    """
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def norwegian_holidays(years: Iterable[int]) -> frozenset[dt.date]:
    """Norwegian public holidays (helligdager and 1 and 17 May) of the given years."""
    days: set[dt.date] = set()
    for year in years:
        easter = easter_sunday(year)
        days |= {easter + dt.timedelta(days=n) for n in (-3, -2, 1, 39, 50)}
        days |= {dt.date(year, m, d) for m, d in ((1, 1), (5, 1), (5, 17), (12, 25), (12, 26))}
    return frozenset(days)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and hours; ``weekdays`` uses Monday = 0."""

    hours_per_day: float = 7.5
    start_hour: float = 8.0
    weekdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    @property
    def minutes_per_day(self) -> float:
        return self.hours_per_day * 60.0

    @cached_property
    def _week_mask(self) -> list[bool]:
        return [day in self.weekdays for day in range(7)]

    @cached_property
    def _holiday_array(self) -> np.ndarray:
        return np.array(sorted(self.holidays), dtype="datetime64[D]")

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def working_days(self, first: dt.date) -> Iterable[dt.date]:
        """Working days from ``first`` on (inclusive), forever."""
        day = first
        while True:
            if self.is_working_day(day):
                yield day
            day += dt.timedelta(days=1)

    def to_datetime(self, origin: dt.date, minutes: float) -> dt.datetime:
        """The instant ``minutes`` working minutes after ``origin``'s first working day starts.

        An instant that falls exactly on a day's close is stamped at that close.
        """
        whole, rest = divmod(max(minutes, 0.0), self.minutes_per_day)
        if rest == 0 and whole > 0:
            whole, rest = whole - 1, self.minutes_per_day
        first = next(iter(self.working_days(origin)))
        day = np.busday_offset(
            np.datetime64(first, "D"),
            int(whole),
            roll="forward",
            weekmask=self._week_mask,
            holidays=self._holiday_array,
        ).astype(dt.date)
        start = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=self.start_hour)
        return start + dt.timedelta(minutes=rest)

    def minutes_expr(self, column: str | pl.Expr) -> pl.Expr:
        """A polars expression: working minutes from a fixed epoch to each timestamp.

        Differences of two such values are working-time durations; time outside working hours
        counts as the nearest edge of the working day.
        """
        at = pl.col(column) if isinstance(column, str) else column
        days = pl.business_day_count(
            pl.lit(_EPOCH), at.dt.date(), week_mask=self._week_mask, holidays=sorted(self.holidays)
        )
        minute_of_day = at.dt.hour().cast(pl.Float64) * 60 + at.dt.minute() + at.dt.second() / 60
        within = (minute_of_day - self.start_hour * 60).clip(0.0, self.minutes_per_day)
        on_working_day = at.dt.is_business_day(
            week_mask=self._week_mask, holidays=sorted(self.holidays)
        )
        return days.cast(pl.Float64) * self.minutes_per_day + pl.when(on_working_day).then(
            within
        ).otherwise(0.0)


DEFAULT_CALENDAR = WorkCalendar(holidays=norwegian_holidays(range(1990, 2061)))
"""Monday to Friday, 08:00 to 15:30, Norwegian public holidays 1990–2060."""
