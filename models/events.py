"""The one event shape shared by live, simulated and imported case runs.

An :class:`Event` is flat on purpose: each field is one column of the event log, so the
analysis can load a whole log into a columnar frame without reshaping.

It is an immutable named tuple rather than a frozen dataclass: a simulation builds millions of
events, and a tuple is built in one step (``Event._make(values)`` in field order is the fast
path) where a frozen dataclass sets its 18 fields one by one. Fields are read by name as
before; two events are equal when all their fields are; ``event._asdict()`` is the event as a
dict keyed by :data:`EVENT_COLUMNS`.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from boflyt.models.vocabulary import EventKind

__all__ = ["EVENT_COLUMNS", "Event"]


class Event(NamedTuple):
    """One thing that happened in a case run.

    ``seq`` numbers the events of one case from 1. ``item`` is the work-item number of a step
    instance (1, 2, … in the order they became ready). Handoff events carry ``from_*``/``to_*``
    and the channel; completion events carry outcome, touch minutes and the step's transactions.
    """

    case_id: str
    seq: int
    kind: EventKind
    at: dt.datetime
    step: str | None = None
    item: int | None = None
    lane: str | None = None
    actor: str | None = None
    org: str | None = None
    outcome: str | None = None
    touch_minutes: float | None = None
    transactions: int | None = None
    from_step: str | None = None
    to_step: str | None = None
    from_lane: str | None = None
    to_lane: str | None = None
    channel: str | None = None
    detail: str | None = None


EVENT_COLUMNS: tuple[str, ...] = Event._fields
