"""The case page's content: a case's timeline, read only, for an organisation that had work in it.

Who may see it is :func:`boflyt.web.access.visible_case` (the rule the API follows too); any
other case, and an unknown one, is the same "not found". The reference is never read: only the
case id is shown. A running case lists when each open step is due
(:func:`boflyt.engine.case.deadlines.due_items`), with the legal basis of a declared deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar
from boflyt.engine.case.deadlines import due_items
from boflyt.engine.definition.load import Library
from boflyt.models.vocabulary import EventKind, RunStatus
from boflyt.models.words import Language, term
from boflyt.web.access import visible_case

__all__ = ["CasePage", "DueRow", "TimelineRow", "case_page"]

NOTED = frozenset({EventKind.STEP_COMPLETED, EventKind.CASE_CANCELLED})
"""Events whose ``detail`` is a person's note (a completion's note, a cancellation's reason);
other details are the store's own (a start's version hash, an implied begin's "implicit")."""


@dataclass(frozen=True)
class TimelineRow:
    """One event as shown: when, what, which step, who for which organisation, the handoff."""

    at: dt.datetime
    what: str
    step: str
    who: str
    handoff: str
    note: str
    """A completion's note or a cancellation's reason; empty for any other event."""


@dataclass(frozen=True)
class DueRow:
    """When one open step is due: by its declared deadline (``deadline``, shown as a day, with
    its legal ``basis``) or by the wait rule (an instant)."""

    step: str
    step_id: str
    organisation: str
    due: dt.datetime
    deadline: bool
    basis: str
    overdue: bool


@dataclass(frozen=True)
class CasePage:
    case_id: str
    process: str
    status: str
    running: bool
    timeline: list[TimelineRow]
    involved: frozenset[str]
    """The organisations that have or had work in the case (who may read it)."""
    dues: tuple[DueRow, ...] = ()
    """When each open step is due (a running case only)."""


def case_page(
    engine: Engine,
    library: Library,
    case_id: str,
    orgs: Sequence[str],
    *,
    lang: Language,
    now: dt.datetime | None = None,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> CasePage:
    """The case's page for an account of ``orgs``; due dates counted on ``calendar`` and judged
    overdue at ``now`` (none listed without ``now``).

    Raises:
        NotFoundError: no such case, or none of ``orgs`` has or had work in it.
    """
    seen = visible_case(engine, case_id, orgs)
    state, events, version = seen.state, seen.events, seen.flow.version

    def lane(lane_id: str | None) -> str:
        found = library.lanes.get(lane_id or "")
        return found.name.get(lang) if found else (lane_id or "")

    def step(step_id: str | None) -> str:
        try:
            return version.step(step_id or "").name.get(lang) if step_id else ""
        except KeyError:
            return step_id or ""

    rows = [
        TimelineRow(
            at=e.at,
            what=term(e.kind, lang),
            step=step(e.step),
            who=" · ".join(p for p in (e.actor, lane(e.org) if e.org else "") if p),
            handoff=f"{lane(e.from_lane)} → {lane(e.to_lane)}" if e.from_lane else "",
            note=(e.detail or "") if e.kind in NOTED else "",
        )
        for e in events
    ]
    running = state.status is RunStatus.RUNNING
    dues: tuple[DueRow, ...] = ()
    if running and now is not None:
        found = due_items(seen.flow, state, now=now, calendar=calendar, events=events)
        dues = tuple(
            DueRow(
                step(d.step), d.step, lane(d.lane), d.due_at, d.declared, d.basis or "", d.overdue
            )
            for d in found
        )
    return CasePage(case_id, f"{state.process}@v{state.version}", term(state.status, lang),
                    running, rows, seen.involved, dues)  # fmt: skip
