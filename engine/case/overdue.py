"""Overdue work: working time between two instants, and ready items waiting too long.

A step's ``wait_days.high`` (at least one working day) is how long its work item may wait
ready; :func:`overdue_items` lists the items past it, which the store escalates
(:func:`boflyt.engine.store.commands.escalate_overdue`). Working time counts Monday–Friday,
08:00–15:30, no
holidays. Pure: the caller passes ``now``. Re-exported by :mod:`boflyt.engine.case.decide`.
"""

from __future__ import annotations

import datetime as dt

from boflyt.engine.case.flow import Flow, compile_flow
from boflyt.engine.case.state import CaseState
from boflyt.models.definition import Version
from boflyt.models.vocabulary import ItemStatus

__all__ = ["overdue_items", "working_minutes"]

_EPOCH = dt.date(1970, 1, 5)  # a Monday
_DAY_START, _DAY_MINUTES = 8 * 60, 450.0


def working_minutes(at: dt.datetime) -> float:
    """Working minutes (Mon–Fri, 08:00–15:30, no holidays) from a fixed Monday to ``at``.

    The difference of two values is the working time between them:

    >>> friday, monday = dt.datetime(2025, 1, 10, 12), dt.datetime(2025, 1, 13, 12)
    >>> working_minutes(monday) - working_minutes(friday)
    450.0
    """
    weeks, weekday = divmod((at.date() - _EPOCH).days, 7)
    before = weeks * 5 + min(weekday, 5)
    minute = at.hour * 60 + at.minute + at.second / 60 - _DAY_START
    within = 0.0 if weekday >= 5 else min(max(minute, 0.0), _DAY_MINUTES)
    return before * _DAY_MINUTES + within


def overdue_items(
    version: Version | Flow, state: CaseState, *, now: dt.datetime
) -> tuple[int, ...]:
    """Numbers of ready items, not yet escalated, waiting longer than their step allows.

    The limit is the step's ``wait_days.high`` working days, but at least one working day.
    """
    flow = version if isinstance(version, Flow) else compile_flow(version)
    reached = working_minutes(now)
    found = []
    for item in state.items:
        if item.status is not ItemStatus.READY or item.escalated:
            continue
        limit = max(flow.steps[item.step].wait_days_high, 1.0) * _DAY_MINUTES
        if reached - working_minutes(item.ready_at) > limit:
            found.append(item.number)
    return tuple(found)
