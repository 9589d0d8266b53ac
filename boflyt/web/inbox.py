"""The inbox page's rows: the open work of several organisations, merged, oldest first.

Each row names its case by the short case id (as ``boflyt inbox`` does), never by its reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from boflyt.engine.definition.load import Library
from boflyt.engine.store import commands as store
from boflyt.engine.store.queries import InboxEntry
from boflyt.models.definition import Version
from boflyt.models.words import Language, format_duration, term

__all__ = ["InboxRow", "inbox_rows"]


@dataclass(frozen=True)
class InboxRow:
    """One line of the inbox page, every value as it is shown."""

    case: str
    case_id: str
    process: str
    step_id: str
    step: str
    organisations: str
    status: str
    waited: str
    waited_minutes: int
    escalated: bool


def inbox_rows(
    engine: Engine, library: Library, orgs: Sequence[str], *, now: dt.datetime, lang: Language
) -> list[InboxRow]:
    """The work items any of ``orgs`` may act on, each once, oldest first."""
    found: dict[tuple[str, int], tuple[InboxEntry, list[str]]] = {}
    for org in orgs:
        for entry in store.inbox(engine, org=org, now=now):
            found.setdefault((entry.case_id, entry.item), (entry, []))[1].append(org)
    versions: dict[tuple[str, int], Version] = {}
    rows = []
    for entry, acting in sorted(found.values(), key=lambda f: (f[0].ready_at, f[0].case_id)):
        key = (entry.process, entry.version)
        if key not in versions:
            versions[key] = store.get_version(engine, process=key[0], version=key[1])
        rows.append(_row(entry, acting, versions[key], library, lang))
    return rows


def _row(
    entry: InboxEntry, orgs: list[str], version: Version, library: Library, lang: Language
) -> InboxRow:
    try:
        step = version.step(entry.step).name.get(lang)
    except KeyError:
        step = entry.step
    names = []
    for org in orgs:
        lane = library.lanes.get(org)
        names.append(lane.name.get(lang) if lane else org)
    return InboxRow(
        case=entry.case_id[:8],
        case_id=entry.case_id,
        process=f"{entry.process}@v{entry.version}",
        step_id=entry.step,
        step=step,
        organisations=", ".join(names),
        status=term(entry.status, lang),
        waited=format_duration(entry.waited, lang),
        waited_minutes=int(entry.waited.total_seconds() // 60),
        escalated=entry.escalated,
    )
