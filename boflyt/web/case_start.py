"""Starting a case as an account: which processes it may start, and the start itself.

Shared by the start-case page and ``POST /api/v1/cases``. An account may start a case on a
published version when one of its organisations is among the version's start organisations
(:func:`boflyt.engine.case.bounds.start_orgs`: the start step's lane and the lanes the start makes
ready, as the case core allows) and it acts for that organisation as a caseworker
(:func:`boflyt.engine.store.accounts.check_actor`, the one rule for who may act).

The case reference (it may be a fødselsnummer) is passed only to the store, which keeps its keyed
pseudonym; it is never returned, logged or put in a message here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from boflyt.engine.case import bounds
from boflyt.engine.case.flow import compile_flow
from boflyt.engine.case.state import CaseState
from boflyt.engine.definition.load import Library
from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.engine.store.accounts import Account
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.definition import Version
from boflyt.models.errors import AccessError
from boflyt.models.vocabulary import Role, VersionStatus
from boflyt.models.words import DEFAULT_LANGUAGE, Language

__all__ = ["Startable", "start", "start_org", "startable"]


@dataclass(frozen=True)
class Startable:
    """A process the account may start cases on: its published versions it may start, by number
    (the newest last, the one chosen when none is given), and the newest one's name."""

    process: str
    versions: tuple[int, ...]
    name: str


def start_org(library: Library, version: Version, account: Account) -> str | None:
    """The first of the account's organisations that may start a case on ``version``, or None
    (also when the account is inactive or not a caseworker)."""
    if not account.may(Role.CASEWORKER):
        return None
    flow = compile_flow(version, store.outside_lanes(version, library.lanes))
    allowed = bounds.start_orgs(flow)
    return next((org for org in account.orgs if org in allowed), None)


def _current(engine: Engine, account: Account) -> Account | None:
    """The account as the store has it now (it may have been disabled or changed since login)."""
    return accounts.get_account(engine, account.username)


def startable(
    library: Library, engine: Engine, account: Account, *, lang: Language = DEFAULT_LANGUAGE
) -> list[Startable]:
    """The processes on which ``account`` may start a case, sorted by process id; each with the
    published versions it may start. Empty for a disabled account or one without the caseworker
    role."""
    current = _current(engine, account)
    if current is None:
        return []
    found = []
    for process in library.processes():
        versions = [
            v
            for v in library.versions(process)
            if v.status is VersionStatus.PUBLISHED and start_org(library, v, current)
        ]
        if versions:
            numbers = tuple(v.version for v in versions)
            found.append(Startable(process, numbers, versions[-1].name.get(lang)))
    return found


def start(
    engine: Engine,
    library: Library,
    key: ReferenceKey,
    *,
    account: Account,
    process: str,
    version: int | None,
    reference: str,
    now: dt.datetime,
    clock: Callable[[], dt.datetime] | None = None,
    address: str | None = None,
) -> CaseState:
    """Start a case on ``process`` (``version``, or when None the newest published one the
    account may start: after a redesign, e.g., an organisation that starts cases only on the
    older version) for ``reference``, as ``account`` for its organisation that may start it.

    ``clock`` gives the present ``now`` is checked against (default: ``now`` itself);
    ``address`` is where the request came from, kept in the audit log.

    Raises:
        NotFoundError: unknown process or version, or nothing published.
        AccessError: none of the account's organisations may start a case on the version, or the
            account may not act (:func:`boflyt.engine.store.accounts.check_actor`).
        CommandError: the version is not published, or the reference is out of bounds.
        ConflictError: a running case of this process already has this reference.
    """
    bounds.check_text(process, what="process", limit=bounds.MAX_ID)
    chosen = library.get(process, version)
    if version is None:
        published = (v for v in library.versions(process) if v.status is VersionStatus.PUBLISHED)
        yours = [v for v in published if start_org(library, v, account)]
        chosen = yours[-1] if yours else chosen
    org = start_org(library, chosen, account)
    if org is None:
        flow = compile_flow(chosen, store.outside_lanes(chosen, library.lanes))
        allowed = ", ".join(sorted(bounds.start_orgs(flow))) or "none"
        acts_for = ", ".join(account.orgs) or "no organisation"
        raise AccessError(
            f"account '{bounds.visible(account.username, limit=bounds.MAX_ID)}' (acting for "
            f"{acts_for}) may not start a case on {chosen.key}; organisations that may: {allowed}"
        )
    accounts.check_actor(engine, account.username, org)
    return store.start_case(engine, version=chosen, ref=reference, key=key,
                            actor=account.username, org=org, now=now, lanes=library.lanes,
                            clock=clock or (lambda: now), address=address)  # fmt: skip
