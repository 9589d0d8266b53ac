"""Reading the case store: case lists, inboxes, timelines and lookups by reference.

Every function reads in one read transaction and returns plain frozen values; none of them
changes anything. Case references are matched by their keyed pseudonym only
(:mod:`boflyt.engine.pseudonym`). Re-exported from :mod:`boflyt.engine.store`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.engine.case import CaseState
from boflyt.engine.db import read_scope
from boflyt.engine.pseudonym import ReferenceKey
from boflyt.engine.statements import (
    CASE_TABLE,
    EVENT_TABLE,
    ITEM_TABLE,
    load_case,
    published_flow,
    utc,
)
from boflyt.models.errors import CommandError, NotFoundError
from boflyt.models.events import EVENT_COLUMNS, Event
from boflyt.models.vocabulary import EventKind, ItemStatus, Mode, RunStatus

__all__ = [
    "CaseSummary",
    "InboxEntry",
    "case_timeline",
    "find_case_by_ref",
    "get_case",
    "inbox",
    "list_cases",
    "resolve_case_id",
]


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """One line of a case list. ``pseudonym`` is the keyed hash of the reference (or None)."""

    id: str
    pseudonym: str | None
    process: str
    version: int
    content_hash: str
    mode: Mode
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """A ready or started work item an organisation may act on, with how long it has waited."""

    case_id: str
    process: str
    version: int
    item: int
    step: str
    status: ItemStatus
    ready_at: dt.datetime
    started_at: dt.datetime | None
    waited: dt.timedelta
    escalated: bool


def resolve_case_id(engine: Engine, prefix: str) -> str:
    """The full id of the case whose id is or starts with ``prefix`` (at least 6 characters).

    Errors never repeat ``prefix``: a user may have typed a case reference (perhaps a
    national identity number) where a case id belongs.
    """
    prefix = prefix.strip().lower()
    if len(prefix) < 6:
        raise CommandError("a case id prefix needs at least 6 characters")
    with read_scope(engine) as conn:
        query = sa.select(CASE_TABLE.c.id).where(
            CASE_TABLE.c.id.startswith(prefix, autoescape=True)
        )
        found = list(conn.execute(query.limit(3)).scalars())
    if not found:
        raise NotFoundError("no case with that id or id prefix")
    if len(found) > 1 and prefix not in found:
        raise CommandError(f"that prefix matches several cases ({', '.join(found)}); give more")
    return prefix if prefix in found else found[0]


def get_case(engine: Engine, case_id: str) -> CaseState:
    """The stored state of one case; :class:`NotFoundError` if there is none."""
    with read_scope(engine) as conn:
        return load_case(conn, case_id)[0]


def _summary(row: Any) -> CaseSummary:
    return CaseSummary(
        row.id, row.ref_key, row.process, row.version, row.content_hash, Mode(row.mode),
        RunStatus(row.status), row.started_at, row.finished_at,
    )  # fmt: skip


def list_cases(
    engine: Engine,
    *,
    process: str | None = None,
    status: RunStatus | str | None = None,
    mode: Mode | None = Mode.LIVE,
) -> list[CaseSummary]:
    """Cases, newest first, filtered by process, status and mode (live by default)."""
    query = sa.select(CASE_TABLE).order_by(CASE_TABLE.c.started_at.desc(), CASE_TABLE.c.id)
    if process is not None:
        query = query.where(CASE_TABLE.c.process == process)
    if status is not None:
        query = query.where(CASE_TABLE.c.status == RunStatus(status).value)
    if mode is not None:
        query = query.where(CASE_TABLE.c.mode == mode.value)
    with read_scope(engine) as conn:
        return [_summary(row) for row in conn.execute(query)]


def find_case_by_ref(
    engine: Engine, *, ref: str, key: ReferenceKey, process: str | None = None
) -> list[CaseSummary]:
    """Cases started with reference ``ref`` (matched by its pseudonym), newest first."""
    query = sa.select(CASE_TABLE).where(CASE_TABLE.c.ref_key == key.pseudonym(ref))
    if process is not None:
        query = query.where(CASE_TABLE.c.process == process)
    with read_scope(engine) as conn:
        rows = conn.execute(query.order_by(CASE_TABLE.c.started_at.desc())).all()
    return [_summary(row) for row in rows]


def inbox(engine: Engine, *, org: str, now: dt.datetime) -> list[InboxEntry]:
    """Ready and started work in running live cases that ``org`` may act on, oldest first."""
    now = utc(now)
    query = (
        sa.select(ITEM_TABLE, CASE_TABLE.c.process, CASE_TABLE.c.version, CASE_TABLE.c.content_hash)
        .join(CASE_TABLE, CASE_TABLE.c.id == ITEM_TABLE.c.case_id)
        .where(CASE_TABLE.c.status == RunStatus.RUNNING.value, CASE_TABLE.c.mode == Mode.LIVE.value)
        .where(ITEM_TABLE.c.status.in_([ItemStatus.READY.value, ItemStatus.STARTED.value]))
        .order_by(ITEM_TABLE.c.ready_at, ITEM_TABLE.c.case_id, ITEM_TABLE.c.number)
    )
    entries = []
    with read_scope(engine) as conn:
        for r in conn.execute(query):
            flow = published_flow(conn, r.process, r.version, r.content_hash)
            if org in flow.steps[r.step].allowed:
                entries.append(
                    InboxEntry(
                        r.case_id, r.process, r.version, r.number, r.step, ItemStatus(r.status),
                        r.ready_at, r.started_at, now - r.ready_at, bool(r.escalated),
                    )
                )  # fmt: skip
    return entries


def _to_event(row: Any) -> Event:
    values = {name: getattr(row, name) for name in EVENT_COLUMNS}
    values["kind"] = EventKind(values["kind"])
    return Event(**values)


def case_timeline(engine: Engine, case_id: str) -> list[Event]:
    """Every event of one case in order."""
    query = (
        sa.select(EVENT_TABLE).where(EVENT_TABLE.c.case_id == case_id).order_by(EVENT_TABLE.c.seq)
    )
    with read_scope(engine) as conn:
        return [_to_event(row) for row in conn.execute(query)]
