"""Who may see a case and act on its steps in the web app: one rule for the pages and the API.

**Seeing a case.** An account sees a case only while one of its organisations has or had work
in it: an organisation named by one of its events (the lane of a step, the organisation that
recorded it, either end of a handoff) or one allowed on an open step (a joint step's other
lanes; the organisations that record an outside party's step, as the inbox shows it). Any other
case, an unknown one and a malformed id are the same "not found", so neither pages nor API tell
which case ids exist; the id asked for is not repeated (it might be a reference typed in the
wrong place).

**Acting on a step.** The account acts for one of its organisations allowed on the step by the
case core (:attr:`boflyt.engine.case.flow.FlowStep.allowed`): one of the step's own lanes
first, else one that records an outside party's step. Whether that organisation's account may
give the command at all is :func:`boflyt.engine.store.accounts.check_actor`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from boflyt.engine.case import bounds
from boflyt.engine.case.decide import CaseState, Flow, open_items
from boflyt.engine.store import commands as store
from boflyt.models.errors import AccessError, CommandError, NotFoundError
from boflyt.models.events import Event

__all__ = ["VisibleCase", "acting_org", "involved_orgs", "visible_case"]


@dataclass(frozen=True)
class VisibleCase:
    """A case an account may see: its state, events, the flow it is pinned to, and who is in it."""

    state: CaseState
    events: list[Event]
    flow: Flow
    involved: frozenset[str]
    """The organisations that have or had work in the case (whose accounts may see it)."""


def involved_orgs(events: Sequence[Event], state: CaseState, flow: Flow) -> frozenset[str]:
    """Every organisation an event names, and every one allowed on an open step."""
    named = {name for e in events for name in (e.lane, e.org, e.from_lane, e.to_lane) if name}
    return frozenset(named).union(*(flow.steps[i.step].allowed for i in open_items(state)))


def visible_case(engine: Engine, case_id: str, orgs: Sequence[str]) -> VisibleCase:
    """The case ``case_id`` if one of ``orgs`` has or had work in it.

    Raises:
        NotFoundError: no such case (or a malformed id), or none of ``orgs`` is in it; the
            same message either way.
    """
    missing = NotFoundError("no such case for your organisations")
    try:
        bounds.check_text(case_id, what="case id", limit=bounds.MAX_ID)
        events = store.case_timeline(engine, case_id)
    except CommandError:
        raise missing from None
    if not events:
        raise missing
    state = store.get_case(engine, case_id)
    flow = store.case_flow(engine, state)
    involved = involved_orgs(events, state, flow)
    if not involved & set(orgs):
        raise missing
    return VisibleCase(state, events, flow, involved)


def acting_org(flow: Flow, step_id: str, orgs: Sequence[str]) -> str:
    """The organisation of ``orgs`` that acts on ``step_id``: one of its own lanes first, else
    one the case core allows (an outside party's step, recorded by the office it waits on).

    Raises:
        NotFoundError: the case's version has no such step.
        AccessError: none of ``orgs`` may act on it.
    """
    if step_id not in flow.steps:
        steps = ", ".join(sorted(flow.steps))
        raise NotFoundError(f"{flow.version.key} has no step with that id; its steps: {steps}")
    allowed = flow.steps[step_id].allowed
    for candidates in (flow.version.step(step_id).lanes, allowed):
        org = next((o for o in orgs if o in candidates), None)
        if org is not None:
            return org
    raise AccessError(
        f"none of your organisations ({', '.join(orgs)}) may act on step '{step_id}'; "
        f"allowed: {', '.join(sorted(allowed))}"
    )
