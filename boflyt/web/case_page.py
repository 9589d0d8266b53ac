"""The case page's content: a case's timeline, read only, for an organisation that had work in it.

A caseworker sees a case only while one of their organisations has or had work in it: the
organisations named by its events (the lane of a step, the organisation that recorded it, both
ends of a handoff) and those allowed on an open step (a joint step's other lanes, the
organisations that record an outside party's step: what their inbox shows them). Any other
case, and an unknown one, is the same "not found", so the page does not tell which case ids
exist. The reference is never read: only the case id is shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from boflyt.engine.definition.load import Library
from boflyt.engine.store import commands as store
from boflyt.models.errors import NotFoundError
from boflyt.models.events import Event
from boflyt.models.vocabulary import EventKind, ItemStatus, RunStatus
from boflyt.models.words import Language, term
from boflyt.web.step_forms import allowed_orgs

__all__ = ["CasePage", "TimelineRow", "case_page", "involved_orgs"]

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
class CasePage:
    case_id: str
    process: str
    status: str
    running: bool
    timeline: list[TimelineRow]
    involved: frozenset[str]
    """The organisations that have or had work in the case (who may read it)."""


def involved_orgs(events: Sequence[Event]) -> set[str]:
    """Every organisation an event of the case names."""
    named = (name for e in events for name in (e.lane, e.org, e.from_lane, e.to_lane))
    return {name for name in named if name}


def case_page(
    engine: Engine, library: Library, case_id: str, orgs: Sequence[str], *, lang: Language
) -> CasePage:
    """The case's page for an account of ``orgs``.

    Raises:
        NotFoundError: no such case, or none of ``orgs`` has or had work in it.
    """
    missing = NotFoundError(f"no case {case_id[:8]} for your organisations")
    events = store.case_timeline(engine, case_id)
    if not events:
        raise missing
    state = store.get_case(engine, case_id)
    version = store.get_version(engine, process=state.process, version=state.version)
    open_steps = {i.step for i in state.items if i.status in (ItemStatus.READY,
                                                              ItemStatus.STARTED)}  # fmt: skip
    involved = frozenset(involved_orgs(events)).union(
        *(allowed_orgs(version, s, library) for s in open_steps)
    )
    if not involved & set(orgs):
        raise missing

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
    return CasePage(case_id, f"{state.process}@v{state.version}", term(state.status, lang),
                    state.status is RunStatus.RUNNING, rows, involved)  # fmt: skip
