"""The inbox page's rows: the open work of several organisations, merged, oldest first.

Each row names its case by the short case id (as ``boflyt inbox`` does), never by its reference.
A step that declares a deadline is due by it, begun or not, and the row shows its legal basis;
any other ready step is due when it has waited as long as its step allows (``wait_days.high``
working days, at least one: the store's escalation rule). Both rules are
:func:`boflyt.engine.case.deadlines.step_due`, on the workspace's working calendar (public
holidays and its closed days). A row with a deadline is overdue past its due day; any other
when it was escalated or has waited past its due time. :class:`InboxFilter` narrows the rows
by organisation, process, status and overdue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.engine import Engine

from boflyt.engine.calendar import DEFAULT_CALENDAR, WorkCalendar
from boflyt.engine.case.deadlines import completions, deadline_due, step_due, wait_due
from boflyt.engine.definition.load import Library
from boflyt.engine.store import commands as store
from boflyt.engine.store.queries import InboxEntry, get_case
from boflyt.models.definition import Version
from boflyt.models.vocabulary import ItemStatus
from boflyt.models.words import Language, format_duration, term

__all__ = ["EntryDue", "InboxFilter", "InboxRow", "due_at", "entry_due", "inbox_rows"]


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox shows: one organisation and process (None: all), a status (``ready`` or
    ``started``; None: both), and only overdue rows or all."""

    org: str | None = None
    process: str | None = None
    status: ItemStatus | None = None
    overdue: bool = False
    page: int = 1
    """Which page of :data:`PAGE_SIZE` rows (from 1)."""

    @classmethod
    def parse(cls, orgs: Sequence[str], query: dict[str, str]) -> InboxFilter:
        """The filter of the page's query; a value the account cannot choose counts as none."""
        org = query.get("org") or None
        status = query.get("status", "")
        page = query.get("page", "1")
        return cls(
            org=org if org in orgs else None,
            process=(query.get("process") or "")[:64] or None,
            status=ItemStatus(status) if status in ("ready", "started") else None,
            overdue=query.get("overdue") in ("1", "on", "true"),
            page=int(page) if page.isdigit() and 0 < len(page) <= 6 and int(page) > 0 else 1,
        )

    def link(self, page: int) -> str:
        """The inbox's URL with this filter on ``page``."""
        query = {"org": self.org, "process": self.process,
                 "status": self.status.value if self.status else None,
                 "overdue": "1" if self.overdue else None, "page": str(page)}  # fmt: skip
        return "/inbox?" + urlencode({k: v for k, v in query.items() if v})

    def keeps(self, row: InboxRow) -> bool:
        """Whether ``row`` passes the filter."""
        return (
            (self.org is None or self.org in row.org_ids)
            and (self.process is None or row.process_id == self.process)
            and (self.status is None or row.status_id == self.status.value)
            and (not self.overdue or row.overdue)
        )


PAGE_SIZE = 50
"""Rows on one page of the inbox (the oldest first; the links go on to the next)."""


@dataclass(frozen=True)
class InboxPage:
    """The rows of one page and where it lies among the filtered rows."""

    rows: list[InboxRow]
    page: int
    pages: int
    first: int
    """1-based number of the page's first row among the filtered rows (0 when none)."""
    matching: int
    """How many rows pass the filter."""


def page_of(rows: Sequence[InboxRow], page: int) -> InboxPage:
    """Page ``page`` (clamped to the last) of ``rows``, :data:`PAGE_SIZE` rows each."""
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(page, pages)
    start = (page - 1) * PAGE_SIZE
    shown = list(rows[start : start + PAGE_SIZE])
    return InboxPage(shown, page, pages, start + 1 if shown else 0, len(rows))


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
    process_id: str
    org_ids: tuple[str, ...]
    status_id: str
    due: dt.datetime | None
    """When the work is due (naive UTC): the end of the deadline's due day for a step with a
    deadline, else when a ready step has waited as long as its step allows (None once begun)."""
    overdue: bool
    """Past a deadline's ``due``; without one: escalated, or waited past ``due``."""
    basis: str = ""
    """The legal basis of the step's deadline (empty without one, or without a basis)."""
    deadline: bool = False
    """Whether ``due`` is the step's declared deadline (shown as a day) or the wait rule's."""
    reminded: bool = False
    """A reminder of its deadline was sent (a ``step_reminded`` event)."""


def inbox_rows(
    engine: Engine,
    library: Library,
    orgs: Sequence[str],
    *,
    now: dt.datetime,
    lang: Language,
    only: InboxFilter | None = None,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> list[InboxRow]:
    """The work items any of ``orgs`` may act on, each once, oldest first (those ``only`` keeps,
    when given), due by ``calendar`` (:meth:`boflyt.workspace.Workspace.calendar`)."""
    versions: dict[tuple[str, int], Version] = {}
    rows = []
    for entry in store.inbox(engine, org=orgs, now=now):  # one query, oldest first
        key = (entry.process, entry.version)
        if key not in versions:
            versions[key] = store.get_version(engine, process=key[0], version=key[1])
        found = entry_due(engine, entry, versions[key], calendar, now)
        rows.append(_row(entry, list(entry.orgs), versions[key], library, lang, found))
    return [row for row in rows if only is None or only.keeps(row)]


def due_at(ready_at: dt.datetime, wait_days_high: float) -> dt.datetime:
    """When an item ready at ``ready_at`` has waited ``wait_days_high`` working days (at least
    one) on the default calendar (:func:`boflyt.engine.case.deadlines.wait_due`).

    >>> due_at(dt.datetime(2025, 1, 10, 14, 0), 1.0)  # Friday 14:00 + 7.5 working hours
    datetime.datetime(2025, 1, 13, 14, 0)
    """
    return wait_due(ready_at, wait_days_high, DEFAULT_CALENDAR)


@dataclass(frozen=True)
class EntryDue:
    """When an inbox entry is due, by which rule, on what basis, and whether it is overdue."""

    due: dt.datetime | None
    overdue: bool
    basis: str = ""
    deadline: bool = False


def entry_due(
    engine: Engine, entry: InboxEntry, version: Version, calendar: WorkCalendar, now: dt.datetime
) -> EntryDue:
    """When ``entry`` is due (:func:`~boflyt.engine.case.deadlines.step_due`); a deadline
    counted ``from`` an earlier step reads the case's completions from the store."""
    try:
        step = version.step(entry.step)
    except KeyError:
        return EntryDue(None, entry.escalated)
    deadline = step.deadline
    if deadline is None:
        begun = entry.status is not ItemStatus.READY
        due = step_due(step, entry.ready_at, begun=begun, calendar=calendar)
        return EntryDue(due, entry.escalated or (due is not None and now > due))
    done = completions(get_case(engine, entry.case_id)) if deadline.start is not None else None
    due_day = deadline_due(deadline, entry.ready_at, calendar, done)
    return EntryDue(due_day, now > due_day, deadline.basis or "", True)


def _row(
    entry: InboxEntry, orgs: list[str], version: Version, library: Library, lang: Language,
    found: EntryDue,
) -> InboxRow:  # fmt: skip
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
        process_id=entry.process,
        org_ids=tuple(orgs),
        status_id=entry.status.value,
        due=found.due,
        overdue=found.overdue,
        basis=found.basis,
        deadline=found.deadline,
        reminded=entry.reminded,
    )
