"""The case page's step forms: begin and complete an open step of the account's organisations.

The account acts as itself (``actor`` = username) for its organisation allowed on the step
(:func:`boflyt.web.access.acting_org`, the rule the API follows too). An account with none of
them, or without the caseworker role, is refused (:class:`AccessError`,
:func:`boflyt.engine.store.accounts.check_actor`). A completion that
finds the step already done (another tab, a colleague) is a :class:`ConflictError` naming who
completed it; minutes outside the store's bounds are a :class:`CommandError` for the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from boflyt.engine.case import bounds
from boflyt.engine.case.flow import Flow
from boflyt.engine.definition.load import Library
from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.models.definition import Step, Version
from boflyt.models.errors import CommandError, ConflictError
from boflyt.models.vocabulary import ItemStatus, StepKind
from boflyt.models.words import Language
from boflyt.web.access import acting_org

__all__ = [
    "StepForm",
    "begin",
    "complete",
    "completed_by",
    "parse_minutes",
    "step_forms",
]


@dataclass(frozen=True)
class StepForm:
    """One open step the account may act on: begin it (if ready) or complete it."""

    step_id: str
    name: str
    started: bool
    outcomes: list[tuple[str, str]]
    """(outcome id, label) of a decision step; empty for any other step."""


def _flow(engine: Engine, case_id: str) -> Flow:
    return store.case_flow(engine, store.get_case(engine, case_id))


def _outcomes(version: Version, step: Step, lang: Language) -> list[tuple[str, str]]:
    if step.kind is not StepKind.DECISION:
        return []
    edges = (t for t in version.transitions if t.source == step.id and t.outcome)
    return [(t.outcome or "", t.label.get(lang) if t.label else t.outcome or "") for t in edges]


def step_forms(
    engine: Engine, case_id: str, orgs: Sequence[str], *, lang: Language
) -> list[StepForm]:
    """The open steps of the case that one of ``orgs`` may begin or complete (outside parties'
    steps too: :attr:`boflyt.engine.case.flow.FlowStep.allowed`)."""
    state = store.get_case(engine, case_id)
    flow = store.case_flow(engine, state)
    version = flow.version
    forms: dict[str, StepForm] = {}
    for item in state.items:
        step = version.step(item.step)
        open_ = item.status in (ItemStatus.READY, ItemStatus.STARTED)
        if open_ and flow.steps[step.id].allowed & set(orgs):
            started = item.status is ItemStatus.STARTED
            outcomes = _outcomes(version, step, lang)
            forms.setdefault(step.id, StepForm(step.id, step.name.get(lang), started, outcomes))
    return list(forms.values())


def parse_minutes(text: str) -> float | None:
    """The minutes typed in the form (empty: none), checked against the store's bounds.

    Raises:
        CommandError: not a number, or outside the store's bounds.
    """
    if not text.strip():
        return None
    try:
        minutes = float(text.replace(",", "."))
    except ValueError:
        minutes = float("nan")
    return bounds.check_minutes(minutes)


def begin(
    engine: Engine, library: Library, case_id: str, step_id: str, *,
    username: str, orgs: Sequence[str], now: dt.datetime, address: str | None = None,
) -> None:  # fmt: skip
    """Begin ``step_id`` as ``username`` for the account's organisation of its lane (``address``:
    where the request came from, kept in the audit log)."""
    org = acting_org(_flow(engine, case_id), step_id, orgs)
    accounts.check_actor(engine, username, org)
    store.begin_step(engine, case_id=case_id, step=step_id, actor=username, org=org, now=now,
                     lanes=library.lanes, clock=lambda: now, address=address)  # fmt: skip


def complete(
    engine: Engine, library: Library, case_id: str, step_id: str, *,
    username: str, orgs: Sequence[str], now: dt.datetime,
    outcome: str | None, minutes: float | None, note: str | None = None,
    address: str | None = None,
) -> None:  # fmt: skip
    """Complete ``step_id`` as ``username`` (with an optional ``note``); :class:`ConflictError`
    if it was already done."""
    org = acting_org(_flow(engine, case_id), step_id, orgs)
    accounts.check_actor(engine, username, org)
    try:
        store.complete_step(engine, case_id=case_id, step=step_id, actor=username, org=org,
                            outcome=outcome, touch_minutes=minutes, note=note, now=now,
                            lanes=library.lanes, clock=lambda: now,
                            address=address)  # fmt: skip
    except CommandError:
        done_by = completed_by(engine, case_id, step_id)
        if done_by is None:
            raise
        raise ConflictError(f"step '{step_id}' already completed by {done_by}") from None


def completed_by(engine: Engine, case_id: str, step_id: str) -> str | None:
    """Who completed ``step_id`` last, when no work item of it is open."""
    items = [i for i in store.get_case(engine, case_id).items if i.step == step_id]
    if any(i.status in (ItemStatus.READY, ItemStatus.STARTED) for i in items):
        return None
    done = [i for i in items if i.status is ItemStatus.DONE]
    return (done[-1].actor or "?") if done else None
