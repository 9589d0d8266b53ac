"""Working time: the one calendar that turns instants into working minutes and back.

One working day is ``hours_per_day`` hours (7.5 by default) starting at ``start_hour`` on the
calendar's working weekdays, minus holidays (:data:`DEFAULT_CALENDAR`: Monday–Friday,
08:00–15:30, Norwegian public holidays). Every part of Boflyt that counts working time uses it:

* escalation (:func:`boflyt.engine.case.overdue.overdue_items`) compares
  :meth:`WorkCalendar.minutes` of two instants, so 17 May and Easter are not working days;
* the simulation runs on a clock of working minutes and stamps its events with
  :meth:`WorkCalendar.stamp`;
* the observed analysis measures durations with :meth:`WorkCalendar.minutes_expr`.

Working minutes count from a fixed Monday (:data:`EPOCH`); the difference of two values is the
working time between them, and time outside working hours counts as the nearest edge of the
working day. Timestamps are naive UTC. Pure: no clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl

__all__ = ["DEFAULT_CALENDAR", "EPOCH", "WorkCalendar", "easter_sunday", "norwegian_holidays"]

EPOCH = dt.date(1970, 1, 5)
"""A Monday: working minute 0."""


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
    """Norwegian public holidays (helligdager and 1 and 17 May) of the given years.

    >>> sorted(str(day) for day in norwegian_holidays([2025]))[:4]
    ['2025-01-01', '2025-04-17', '2025-04-18', '2025-04-21']
    """
    days: set[dt.date] = set()
    for year in years:
        easter = easter_sunday(year)
        days |= {easter + dt.timedelta(days=n) for n in (-3, -2, 1, 39, 50)}
        days |= {dt.date(year, m, d) for m, d in ((1, 1), (5, 1), (5, 17), (12, 25), (12, 26))}
    return frozenset(days)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and hours; ``weekdays`` uses Monday = 0.

    >>> calendar = WorkCalendar(holidays=norwegian_holidays([2022]))
    >>> friday, monday = dt.datetime(2022, 5, 13, 12), dt.datetime(2022, 5, 16, 12)
    >>> calendar.minutes(monday) - calendar.minutes(friday)  # a weekend
    450.0
    >>> wednesday = dt.datetime(2022, 5, 18, 12)
    >>> calendar.minutes(wednesday) - calendar.minutes(monday)  # Tuesday was 17 May
    450.0
    """

    hours_per_day: float = 7.5
    start_hour: float = 8.0
    weekdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    @property
    def minutes_per_day(self) -> float:
        """Working minutes in one working day (450 for 7.5 hours)."""
        return self.hours_per_day * 60.0

    @cached_property
    def _week_mask(self) -> list[bool]:
        return [day in self.weekdays for day in range(7)]

    @cached_property
    def _holiday_list(self) -> list[dt.date]:
        return sorted(self.holidays)

    @cached_property
    def _holiday_array(self) -> np.ndarray:
        return np.array(self._holiday_list, dtype="datetime64[D]")

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working weekday and no holiday."""
        return day.weekday() in self.weekdays and day not in self.holidays

    def minutes(self, at: dt.datetime) -> float:
        """Working minutes from :data:`EPOCH` to ``at`` (the scalar :meth:`minutes_expr`)."""
        days = np.busday_count(
            EPOCH, at.date(), weekmask=self._week_mask, holidays=self._holiday_array
        )
        if not self.is_working_day(at.date()):
            return float(days) * self.minutes_per_day
        minute = at.hour * 60 + at.minute + at.second / 60 - self.start_hour * 60
        return float(days) * self.minutes_per_day + min(max(minute, 0.0), self.minutes_per_day)

    def minutes_expr(self, column: str | pl.Expr) -> pl.Expr:
        """A polars expression: working minutes from :data:`EPOCH` to each timestamp."""
        at = pl.col(column) if isinstance(column, str) else column
        days = pl.business_day_count(
            pl.lit(EPOCH), at.dt.date(), week_mask=self._week_mask, holidays=self._holiday_list
        )
        minute_of_day = at.dt.hour().cast(pl.Float64) * 60 + at.dt.minute() + at.dt.second() / 60
        within = (minute_of_day - self.start_hour * 60).clip(0.0, self.minutes_per_day)
        on_working_day = at.dt.is_business_day(
            week_mask=self._week_mask, holidays=self._holiday_list
        )
        return days.cast(pl.Float64) * self.minutes_per_day + pl.when(on_working_day).then(
            within
        ).otherwise(0.0)

    def working_days(self, origin: dt.date, count: int) -> np.ndarray:
        """The first ``count`` working days from ``origin`` on (inclusive), as ``datetime64[D]``.

        >>> WorkCalendar(holidays=norwegian_holidays([2025])).working_days(dt.date(2025, 5, 16), 2)
        array(['2025-05-16', '2025-05-19'], dtype='datetime64[D]')
        """
        span = count * 7 // max(len(self.weekdays), 1) + 7 + len(self.holidays)
        while True:
            days = np.datetime64(origin, "D") + np.arange(span)
            found = days[np.is_busday(days, weekmask=self._week_mask, holidays=self._holiday_array)]
            if len(found) >= count:
                return found[:count]
            span *= 2  # pragma: no cover - only with extreme holiday lists

    def stamp(self, origin: dt.date, minutes: np.ndarray) -> np.ndarray:
        """Instants (``datetime64[us]``) ``minutes`` working minutes after ``origin``'s first
        working day starts; an instant exactly at a day's close is stamped at that close.

        >>> WorkCalendar().stamp(dt.date(2025, 1, 4), np.array([0.0, 450.0, 451.0]))
        array(['2025-01-06T08:00:00.000000', '2025-01-06T15:30:00.000000',
               '2025-01-07T08:01:00.000000'], dtype='datetime64[us]')
        """
        per_day = self.minutes_per_day
        whole, rest = np.divmod(np.maximum(minutes, 0.0), per_day)
        edge = (rest == 0) & (whole > 0)
        whole = np.where(edge, whole - 1, whole).astype(np.int64)
        rest = np.where(edge, per_day, rest)
        days = self.working_days(origin, int(whole.max(initial=0)) + 1)[whole]
        opening = np.timedelta64(round(self.start_hour * 3_600_000_000), "us")
        offset = np.round(rest * 60_000_000).astype(np.int64).astype("timedelta64[us]")
        return np.asarray(days.astype("datetime64[us]") + opening + offset)

    def to_datetime(self, origin: dt.date, minutes: float) -> dt.datetime:
        """One instant of :meth:`stamp`, as a ``datetime``."""
        instant: dt.datetime = self.stamp(origin, np.array([minutes])).astype(dt.datetime)[0]
        return instant


DEFAULT_CALENDAR = WorkCalendar(holidays=norwegian_holidays(range(1990, 2061)))
"""Monday to Friday, 08:00 to 15:30, Norwegian public holidays 1990–2060."""
