"""The ``deadline-notices`` flow: remind before a step's deadline, escalate after it, send mail.

Deployed on working-day mornings (``prefect.yaml``: 07:00 Monday–Friday, Europe/Oslo); the flow
itself skips a day that the workspace's calendar closes (Norwegian public holidays and the
municipality's ``closed-days.txt``), so Easter, 17 May or a closed Christmas Eve send nothing.
On a working day it

1. scans the running live cases (:func:`boflyt.engine.store.reminders.scan_deadlines`): an open
   item whose declared deadline is at most ``ahead_days`` working days away gets one
   ``step_reminded`` event, one past it one ``step_escalated`` event, each with its e-mail
   notice in the same transaction (:mod:`boflyt.engine.store.outbox`);
2. sends the outbox (:func:`boflyt.flows.outbox.send_outbox`) when an SMTP server is configured
   (``BOFLYT_SMTP_HOST``); the notices wait in the outbox otherwise.

The store is the worker's, never a parameter (:func:`boflyt.flows.store.flow_workspace`).
:func:`run_deadlines` is the same work without Prefect (``boflyt deadlines run``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo

from prefect import flow, task

from boflyt.engine.store.outbox import recipients_of
from boflyt.engine.store.reminders import scan_deadlines
from boflyt.flows.outbox import SendReport, send_outbox, smtp_server
from boflyt.flows.store import flow_workspace
from boflyt.workspace import Workspace

__all__ = ["OSLO", "DeadlineRun", "deadline_notices", "run_deadlines"]

OSLO = ZoneInfo("Europe/Oslo")
"""The calendar's time zone: a day is a working day or not in Norway."""


@dataclass(frozen=True)
class DeadlineRun:
    """What one run did; ``closed`` when the day was not a working day (nothing was done)."""

    day: dt.date
    closed: bool = False
    reminded: int = 0
    escalated: int = 0
    skipped: int = 0
    sent: SendReport | None = None
    """None when no SMTP server is configured (or sending was not asked for)."""


def _wall() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def run_deadlines(
    workspace: Workspace,
    *,
    now: dt.datetime | None = None,
    ahead_days: float = 2,
    send: bool = True,
) -> DeadlineRun:
    """Remind, escalate and send for ``workspace`` as of ``now`` (naive UTC; default: now)."""
    at = now or _wall()
    day = at.replace(tzinfo=dt.UTC).astimezone(OSLO).date()
    calendar = workspace.calendar()
    if not calendar.is_working_day(day):
        return DeadlineRun(day, closed=True)
    engine = workspace.open_store()
    try:
        scan = scan_deadlines(engine, now=at, calendar=calendar, ahead=ahead_days)
        server = smtp_server(workspace.settings) if send else None
        sent = None
        if server is not None:
            clock = (lambda: at) if now is not None else _wall
            sent = send_outbox(engine, recipients_of(engine), server,
                               base_url=workspace.settings.base_url, lang=workspace.settings.lang,
                               now=clock, limit=10_000)  # fmt: skip
    finally:
        engine.dispose()
    return DeadlineRun(day, False, scan.reminded, scan.escalated, scan.skipped, sent)


@task(name="deadline-notices-run", retries=2, retry_delay_seconds=30)
def _run(now: str | None, ahead_days: float) -> dict[str, object]:
    moment = dt.datetime.fromisoformat(now) if now else None
    result = run_deadlines(flow_workspace(), now=moment, ahead_days=ahead_days)
    return {**asdict(result), "day": result.day.isoformat()}


@flow(name="deadline-notices")
async def deadline_notices(now: str | None = None, ahead_days: float = 2) -> dict[str, object]:
    """Remind before deadlines, escalate after them and send the outbox; skip closed days.

    ``now`` (ISO date-time, naive UTC) defaults to the current time; ``ahead_days``: how many
    working days before its deadline an item is reminded. ``async`` like the other flows (a
    sync flow run waits for its heartbeat thread on exit).
    """
    return _run(now, ahead_days)
