"""Overdue work: ready work items that have waited longer than their step allows.

A step's ``wait_days.high`` (at least one working day) is how long its work item may wait
ready; :func:`overdue_items` lists the items past it, which the store escalates
(:func:`boflyt.engine.store.commands.escalate_overdue`). Waiting is counted in working time on
the one calendar (:data:`boflyt.engine.calendar.DEFAULT_CALENDAR`: Monday–Friday, 08:00–15:30,
Norwegian public holidays), so 17 May or Easter never makes an item overdue. Pure: the caller
passes ``now``. Re-exported by :mod:`boflyt.engine.case.decide`.
"""

from __future__ import annotations

import datetime as dt

from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar
from boflyt.engine.case.flow import Flow, compile_flow
from boflyt.engine.case.state import CaseState
from boflyt.models.definition import Version
from boflyt.models.vocabulary import ItemStatus

__all__ = ["overdue_items", "working_minutes"]

working_minutes = DEFAULT_CALENDAR.minutes
"""Working minutes from a fixed Monday to an instant on the default calendar.

>>> friday, monday = dt.datetime(2025, 1, 10, 12), dt.datetime(2025, 1, 13, 12)
>>> working_minutes(monday) - working_minutes(friday)
450.0
"""


def overdue_items(
    version: Version | Flow,
    state: CaseState,
    *,
    now: dt.datetime,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> tuple[int, ...]:
    """Numbers of ready items, not yet escalated, waiting longer than their step allows.

    The limit is the step's ``wait_days.high`` working days of ``calendar``, but at least one
    working day.
    """
    flow = version if isinstance(version, Flow) else compile_flow(version)
    reached = calendar.minutes(now)
    found = []
    for item in state.items:
        if item.status is not ItemStatus.READY or item.escalated:
            continue
        limit = max(flow.steps[item.step].wait_days_high, 1.0) * calendar.minutes_per_day
        if reached - calendar.minutes(item.ready_at) > limit:
            found.append(item.number)
    return tuple(found)
