"""A simulation scenario: arrivals, working time, staff capacity and per-step overrides.

A scenario file (``processes/<process>/scenarios/<name>.yaml``) maps one-to-one onto
:class:`Scenario`. It belongs to a process, not to a version, so the same scenario can drive
``v1`` and ``v2`` for a fair before/after comparison; overrides naming a step that a version
lacks are simply not used for that version.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from boflyt.models.definition import Duration, Identifier, IsoDate

__all__ = ["WEEKDAYS", "Override", "Scenario", "Weekday"]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names in calendar order (Monday = 0)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Override(_Frozen):
    """Replaces a step's touch time and/or its wait for this scenario."""

    touch_minutes: Duration | None = None
    wait_days: Duration | None = None


class Scenario(_Frozen):
    """What the simulated world looks like: demand, working time and staffing.

    >>> s = Scenario(name="tiny", arrivals_per_week=5, start="2025-01-06", capacity={"nav": 2})
    >>> s.minutes_per_day, sorted(s.weekday_numbers)
    (450.0, [0, 1, 2, 3, 4])
    """

    name: Identifier
    description: Annotated[str, Field(max_length=2000)] = ""
    arrivals_per_week: Annotated[float, Field(gt=0, le=1_000_000)]
    """Mean number of new cases per calendar week (Poisson arrivals)."""
    start: IsoDate
    """The first simulated day (the clock starts at this day's first working minute)."""
    hours_per_day: Annotated[float, Field(gt=0, le=24)] = 7.5
    working_days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    holidays: Literal["norway", "none"] = "norway"
    capacity: dict[Identifier, Annotated[int, Field(ge=1, le=100_000)]] = Field(
        default_factory=dict
    )
    """People per organisation; lanes not listed (and outside parties) are unlimited."""
    overrides: dict[Identifier, Override] = Field(default_factory=dict)

    @field_validator("working_days")
    @classmethod
    def _distinct_days(cls, value: tuple[Weekday, ...]) -> tuple[Weekday, ...]:
        if not value:
            raise ValueError("at least one working day is needed")
        if len(set(value)) != len(value):
            raise ValueError("a working day is listed twice")
        return value

    @property
    def minutes_per_day(self) -> float:
        """Working minutes in one working day (the length of one ``wait_days`` unit)."""
        return self.hours_per_day * 60.0

    @property
    def weekday_numbers(self) -> frozenset[int]:
        """The working days as numbers, Monday = 0."""
        return frozenset(WEEKDAYS.index(day) for day in self.working_days)

    @property
    def arrivals_per_minute(self) -> float:
        """Arrival rate on the working-minute clock (a week holds its working days only)."""
        return self.arrivals_per_week / (len(self.working_days) * self.minutes_per_day)
