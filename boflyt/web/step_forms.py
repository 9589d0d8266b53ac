"""The case page's step forms: begin and complete an open step of the account's organisations.

The account acts as itself (``actor`` = username) for the first of its organisations allowed on
the step: the step's lanes, and for an outside party's step (a tenant, IMDi) the organisations
that record it, as the case core and the inbox allow (:attr:`boflyt.engine.case.flow.FlowStep.
allowed`). An account with none of them, or without the caseworker role, is refused
(:class:`AccessError`, :func:`boflyt.engine.store.accounts.check_actor`). A completion that
finds the step already done (another tab, a colleague) is a :class:`ConflictError` naming who
completed it; minutes outside the store's bounds are a :class:`CommandError` for the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from boflyt.engine.case import bounds
from boflyt.engine.case.flow import compile_flow
from boflyt.engine.case.state import CaseState
from boflyt.engine.definition.load import Library
from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.engine.store.versions import outside_lanes
from boflyt.models.definition import Step, Version
from boflyt.models.errors import AccessError, CommandError, ConflictError, NotFoundError
from boflyt.models.vocabulary import ItemStatus, StepKind
from boflyt.models.words import Language

__all__ = [
    "StepForm",
    "allowed_orgs",
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


def _case(engine: Engine, case_id: str) -> tuple[CaseState, Version]:
    state = store.get_case(engine, case_id)
    return state, store.get_version(engine, process=state.process, version=state.version)


def _outcomes(version: Version, step: Step, lang: Language) -> list[tuple[str, str]]:
    if step.kind is not StepKind.DECISION:
        return []
    edges = (t for t in version.transitions if t.source == step.id and t.outcome)
    return [(t.outcome or "", t.label.get(lang) if t.label else t.outcome or "") for t in edges]


def allowed_orgs(version: Version, step_id: str, library: Library | None) -> frozenset[str]:
    """The organisations that may act on ``step_id``: its lanes, and for an outside party's
    step those that record it (with ``library``'s lane catalogue; without it, its lanes)."""
    lanes = library.lanes if library is not None else None
    try:
        return compile_flow(version, outside_lanes(version, lanes)).steps[step_id].allowed
    except KeyError:
        raise NotFoundError(f"no step {step_id}") from None


def step_forms(
    engine: Engine, case_id: str, orgs: Sequence[str], *, lang: Language,
    library: Library | None = None,
) -> list[StepForm]:  # fmt: skip
    """The open steps of the case that one of ``orgs`` may begin or complete (outside parties'
    steps too, with ``library``'s lane catalogue)."""
    state, version = _case(engine, case_id)
    forms: dict[str, StepForm] = {}
    for item in state.items:
        step = version.step(item.step)
        open_ = item.status in (ItemStatus.READY, ItemStatus.STARTED)
        if open_ and allowed_orgs(version, step.id, library) & set(orgs):
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


def _org(version: Version, step_id: str, orgs: Sequence[str], library: Library) -> str:
    """The first of ``orgs`` allowed on the step; :class:`AccessError` when none is."""
    allowed = allowed_orgs(version, step_id, library)
    org = next((o for o in orgs if o in allowed), None)
    if org is None:
        raise AccessError(f"none of {', '.join(orgs)} may act on step '{step_id}'")
    return org


def begin(
    engine: Engine, library: Library, case_id: str, step_id: str, *,
    username: str, orgs: Sequence[str], now: dt.datetime, address: str | None = None,
) -> None:  # fmt: skip
    """Begin ``step_id`` as ``username`` for the account's organisation of its lane (``address``:
    where the request came from, kept in the audit log)."""
    _, version = _case(engine, case_id)
    org = _org(version, step_id, orgs, library)
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
    _, version = _case(engine, case_id)
    org = _org(version, step_id, orgs, library)
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
