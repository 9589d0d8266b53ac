"""Due dates: when each open work item of a case must be done, and whether it is overdue.

Two rules, each in one place here:

* **A declared deadline** (a step's :class:`~boflyt.models.definition.Deadline`, e.g. a
  statutory 2-week period) applies to the step's open work item, ready or begun. The clock
  starts when the item became ready or, with ``from``, at the last completion of the named
  earlier step no later than that (the item's own readiness when that step has not completed
  by then). The day the clock starts is not counted (domstolloven § 148 first paragraph):

  - ``days`` working days: the item is due on the ``days``-th working day after that day;
    working days are the municipality's calendar (Monday–Friday, no Norwegian public holiday,
    no closed day of the workspace);
  - ``day_of_month``: due on the first such day of a month on or after that day (ready on
    26 May with ``day_of_month: 25``: 25 June), moved to the next working day like a calendar-day
    deadline;
  - ``calendar: true``: due ``days`` calendar days after that day; a due day that is a Saturday,
    Sunday, public holiday or closed day moves to the next working day (domstolloven § 148,
    which forvaltningsloven § 30 follows for administrative deadlines: a deadline ending on a
    Saturday or holiday is extended to the next working day). Closed days are treated like
    holidays, so the municipality is never due on a day it is closed.

  The item is due at the end of its due day (:data:`END_OF_DAY`) and overdue after it.
* **Without a deadline**, a ready item is due when it has waited its step's
  ``wait_days.high`` working days of working time (at least one): the store's escalation rule
  (:mod:`boflyt.engine.case.overdue`), here on the given calendar. A begun item has no due date
  under this rule.

Timestamps are naive UTC and days are their dates, as everywhere in the calendar
(:mod:`boflyt.engine.calendar`). Pure: the caller passes ``now`` and the calendar
(:meth:`boflyt.workspace.Workspace.calendar` gives the workspace's, with its closed days).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from boflyt.engine.calendar import WorkCalendar
from boflyt.engine.case.flow import Flow
from boflyt.engine.case.state import CaseState
from boflyt.models.definition import Deadline, Step, Version
from boflyt.models.events import Event
from boflyt.models.vocabulary import EventKind, ItemStatus

__all__ = [
    "END_OF_DAY",
    "Due",
    "clock_start",
    "completions",
    "deadline_day",
    "deadline_due",
    "due_items",
    "step_due",
    "wait_due",
]

END_OF_DAY = dt.time.max
"""The instant of its due day at which an item falls due: the day's last microsecond."""

_OPEN = (ItemStatus.READY, ItemStatus.STARTED)
_MAX_DAYS = 3660 * 2
"""A safety bound on the walk over days (a calendar whose every day is closed never ends)."""


@dataclass(frozen=True, slots=True)
class Due:
    """When one open work item is due.

    ``due_at`` is naive UTC; ``basis`` is the deadline's legal basis (None for a deadline
    without one and for the wait rule); ``declared`` tells a step's own deadline (True) from the
    wait rule (False); ``overdue`` is ``now > due_at``.
    """

    item: int
    step: str
    lane: str
    due_at: dt.datetime
    basis: str | None
    overdue: bool
    declared: bool = True


def deadline_day(deadline: Deadline, start: dt.date, calendar: WorkCalendar) -> dt.date:
    """The due day of ``deadline`` whose clock starts on ``start`` (a day not counted).

    >>> from boflyt.engine.calendar import norwegian_holidays
    >>> calendar = WorkCalendar(holidays=norwegian_holidays([2025]))
    >>> deadline_day(Deadline(days=3), dt.date(2025, 4, 16), calendar)  # over Easter
    datetime.date(2025, 4, 24)
    >>> deadline_day(Deadline(days=14, calendar=True), dt.date(2025, 5, 3), calendar)
    datetime.date(2025, 5, 19)
    >>> deadline_day(Deadline(day_of_month=25), dt.date(2025, 5, 26), calendar)  # 25 June
    datetime.date(2025, 6, 25)
    """
    day = start
    if deadline.day_of_month is not None:
        month = start.replace(day=deadline.day_of_month)
        if month < start:
            month = (month.replace(day=1) + dt.timedelta(days=31)).replace(day=month.day)
        return _next_working_day(month, calendar)
    days = deadline.days or 1
    if deadline.calendar:
        day += dt.timedelta(days=days)
        return _next_working_day(day, calendar)
    left = days
    for _ in range(_MAX_DAYS):
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
            if left == 0:
                return day
    raise ValueError(f"no {days} working days within {_MAX_DAYS} days of {start}")


def _next_working_day(day: dt.date, calendar: WorkCalendar) -> dt.date:
    for _ in range(_MAX_DAYS):
        if calendar.is_working_day(day):
            return day
        day += dt.timedelta(days=1)
    raise ValueError(f"no working day within {_MAX_DAYS} days of {day}")


def completions(
    state: CaseState, events: Iterable[Event] | None = None
) -> dict[str, list[dt.datetime]]:
    """Every completion instant of each step of the case, ascending: from the state's done
    work items and, when given, the case's ``step_completed`` events."""
    found: dict[str, set[dt.datetime]] = {}
    for item in state.items:
        if item.status is ItemStatus.DONE and item.done_at is not None:
            found.setdefault(item.step, set()).add(item.done_at)
    for event in events or ():
        if event.kind is EventKind.STEP_COMPLETED and event.step is not None:
            found.setdefault(event.step, set()).add(event.at)
    return {step: sorted(times) for step, times in found.items()}


def clock_start(
    deadline: Deadline, ready_at: dt.datetime, done: Mapping[str, list[dt.datetime]]
) -> dt.datetime:
    """When the clock of ``deadline`` starts for an item ready at ``ready_at``: the last
    completion of its ``from`` step at or before ``ready_at`` (``done``: :func:`completions`),
    else ``ready_at``."""
    if deadline.start is None:
        return ready_at
    earlier = [at for at in done.get(deadline.start, ()) if at <= ready_at]
    return earlier[-1] if earlier else ready_at


def deadline_due(
    deadline: Deadline,
    ready_at: dt.datetime,
    calendar: WorkCalendar,
    done: Mapping[str, list[dt.datetime]] | None = None,
) -> dt.datetime:
    """The instant an item ready at ``ready_at`` is due under ``deadline`` (naive UTC): the end
    of its :func:`deadline_day`.

    >>> from boflyt.engine.calendar import norwegian_holidays
    >>> calendar = WorkCalendar(holidays=norwegian_holidays([2027]))
    >>> deadline_due(Deadline(days=1), dt.datetime(2027, 5, 14, 9), calendar)  # Friday
    datetime.datetime(2027, 5, 18, 23, 59, 59, 999999)
    """
    start = clock_start(deadline, ready_at, done or {})
    return dt.datetime.combine(deadline_day(deadline, start.date(), calendar), END_OF_DAY)


def wait_due(ready_at: dt.datetime, wait_days_high: float, calendar: WorkCalendar) -> dt.datetime:
    """When an item ready at ``ready_at`` has waited ``wait_days_high`` working days (at least
    one) of ``calendar``'s working time: the instant after which the store escalates it.

    Walks the working days in plain Python (a few set look-ups a row; the calendar's numpy
    functions cost ten times more per call, which a 200-row inbox felt).

    >>> from boflyt.engine.calendar import DEFAULT_CALENDAR as calendar
    >>> wait_due(dt.datetime(2025, 1, 10, 14, 0), 1.0, calendar)  # Friday 14:00 + 7.5 h
    datetime.datetime(2025, 1, 13, 14, 0)
    >>> wait_due(dt.datetime(2025, 5, 16, 18, 0), 1.0, calendar)  # after hours; 17 May: Saturday
    datetime.datetime(2025, 5, 19, 15, 30)
    """
    per_day = calendar.minutes_per_day
    remaining = max(wait_days_high, 1.0) * per_day
    day = ready_at.date()
    if calendar.is_working_day(day):
        minute = ready_at.hour * 60 + ready_at.minute + ready_at.second / 60
        into = min(max(minute - calendar.start_hour * 60, 0.0), per_day)
        if remaining <= per_day - into:
            return _at(day, into + remaining, calendar)
        remaining -= per_day - into
    for _ in range(_MAX_DAYS):
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            if remaining <= per_day:
                return _at(day, remaining, calendar)
            remaining -= per_day
    raise ValueError(f"no working day within {_MAX_DAYS} days of {ready_at:%Y-%m-%d}")


def _at(day: dt.date, minutes: float, calendar: WorkCalendar) -> dt.datetime:
    """``minutes`` working minutes into ``day`` (from the calendar's opening hour)."""
    opening = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=calendar.start_hour)
    return opening + dt.timedelta(microseconds=round(minutes * 60_000_000))


def step_due(
    step: Step,
    ready_at: dt.datetime,
    *,
    begun: bool,
    calendar: WorkCalendar,
    done: Mapping[str, list[dt.datetime]] | None = None,
) -> dt.datetime | None:
    """When an open work item of ``step``, ready at ``ready_at``, is due: by the step's deadline
    (``done``: :func:`completions`, needed for its ``from``), else by the wait rule while it is
    not ``begun``; ``None`` for a begun item of a step without a deadline.

    >>> from boflyt.engine.calendar import DEFAULT_CALENDAR
    >>> from tests.factories import linear_version
    >>> step = linear_version().step("a")
    >>> step_due(step, dt.datetime(2025, 1, 10, 14), begun=False, calendar=DEFAULT_CALENDAR)
    datetime.datetime(2025, 1, 13, 14, 0)
    >>> step_due(step, dt.datetime(2025, 1, 10, 14), begun=True, calendar=DEFAULT_CALENDAR)
    """
    if step.deadline is not None:
        return deadline_due(step.deadline, ready_at, calendar, done)
    if begun:
        return None
    return wait_due(ready_at, step.wait_days.high, calendar)


def due_items(
    version_or_flow: Version | Flow,
    state: CaseState,
    *,
    now: dt.datetime,
    calendar: WorkCalendar,
    events: Iterable[Event] | None = None,
) -> tuple[Due, ...]:
    """The due date of each open work item of ``state``, in item order.

    A step's declared deadline gives a ready or begun item's due date; without one, a ready
    item is due by the wait rule and a begun one is left out (:func:`step_due`). ``events``
    (the case's events) add completions the state does not hold for a deadline's ``from`` step.
    """
    version = version_or_flow.version if isinstance(version_or_flow, Flow) else version_or_flow
    steps = {step.id: step for step in version.steps}
    done: dict[str, list[dt.datetime]] | None = None
    found = []
    for item in state.items:
        step = steps.get(item.step) if item.status in _OPEN else None
        if step is None:
            continue
        if done is None and step.deadline is not None and step.deadline.start is not None:
            done = completions(state, events)
        begun = item.status is ItemStatus.STARTED
        due = step_due(step, item.ready_at, begun=begun, calendar=calendar, done=done)
        if due is None:
            continue
        basis = step.deadline.basis if step.deadline is not None else None
        declared = step.deadline is not None
        found.append(Due(item.number, item.step, step.lane, due, basis, now > due, declared))
    return tuple(found)
