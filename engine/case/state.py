"""The values the case engine works on: a case's state, its work items, decisions.

All immutable. :class:`WorkItem`, :class:`CaseState` and :class:`Decision` are named tuples, so
:func:`boflyt.engine.case.decide.decide` builds each in one step and a new state shares its
unchanged work items with the old one (the store relies on that to write only the items that
changed). The commands are in :mod:`boflyt.engine.case.commands`.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from boflyt.models.events import Event
from boflyt.models.vocabulary import ItemStatus, RunStatus

__all__ = ["OPEN_STATUSES", "CaseState", "Decision", "WorkItem", "open_items", "ready_items"]

OPEN_STATUSES = (ItemStatus.READY, ItemStatus.STARTED)
"""The statuses of a work item someone may still act on."""
_READY = ItemStatus.READY  # a module constant: reading an enum member from its class is slow


class WorkItem(NamedTuple):
    """One step instance of a case: ready -> started -> done / cancelled.

    Immutable; a named tuple so ``decide`` builds one in a single step.
    """

    number: int
    step: str
    status: ItemStatus
    ready_at: dt.datetime
    started_at: dt.datetime | None = None
    done_at: dt.datetime | None = None
    actor: str | None = None
    org: str | None = None
    outcome: str | None = None
    touch_minutes: float | None = None
    escalated: bool = False


class CaseState(NamedTuple):
    """Everything the engine needs to decide the next command of one case.

    ``arrivals`` lists the branches that have reached each waiting join:
    ``((join, (source, …)), …)``, sorted. ``seq`` is the ``seq`` of the case's last event.
    Immutable; ``decide`` returns a new state and shares the unchanged work items with the old.
    """

    case_id: str
    process: str
    version: int
    content_hash: str
    status: RunStatus
    items: tuple[WorkItem, ...]
    arrivals: tuple[tuple[str, tuple[str, ...]], ...]
    seq: int
    started_at: dt.datetime
    finished_at: dt.datetime | None = None


class Decision(NamedTuple):
    """The outcome of one command: the new state and the events that led to it."""

    state: CaseState
    events: tuple[Event, ...]


def ready_items(state: CaseState) -> tuple[WorkItem, ...]:
    """Work items waiting for someone to begin them."""
    return tuple(item for item in state.items if item.status is _READY)


def open_items(state: CaseState) -> tuple[WorkItem, ...]:
    """Work items ready or started."""
    return tuple(item for item in state.items if item.status in OPEN_STATUSES)
