"""The one event shape shared by live, simulated and imported case runs.

An :class:`Event` is flat on purpose: each field is one column of the event log, so the
analysis can load a whole log into a columnar frame without reshaping.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from models.vocabulary import EventKind

__all__ = ["EVENT_COLUMNS", "Event"]


@dataclass(frozen=True, slots=True)
class Event:
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

    def as_row(self) -> dict[str, Any]:
        """The event as a plain dict keyed by :data:`EVENT_COLUMNS`."""
        return asdict(self)


EVENT_COLUMNS: tuple[str, ...] = tuple(Event.__dataclass_fields__)
