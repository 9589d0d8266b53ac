"""Reminders before a deadline and escalations after it, each with its notice in one transaction.

:func:`remind` writes one ``step_reminded`` event per open work item whose deadline is near (at
most one per item: an item reminded before is skipped), and :func:`escalate_due` one
``step_escalated`` event per open item past its deadline (the case engine's own rule: an item is
escalated once). Each runs in the case's command transaction (compare-and-set on ``row_version``,
events hash-chained like any command's) and queues the e-mail notices in that same transaction
(:func:`boflyt.engine.store.outbox.notify_in`), so an event and its notice commit together.
``step_reminded`` changes no state: :func:`boflyt.engine.case.decide.replay` passes over it.

:func:`scan_deadlines` finds what to do: each open item of a running live case whose step
declares a deadline (:func:`boflyt.engine.case.deadlines.due_items`) is reminded once when its
due date is at most ``ahead`` working days away and escalated once when it has passed. Items
due only by their step's wait rule are the daily escalation's
(:func:`boflyt.engine.store.commands.escalate_overdue`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from boflyt.engine.calendar import WorkCalendar
from boflyt.engine.case import bounds
from boflyt.engine.case.commands import Escalate
from boflyt.engine.case.deadlines import due_items
from boflyt.engine.case.state import OPEN_STATUSES
from boflyt.engine.store import audit, outbox
from boflyt.engine.store.commands import Clock, _command, wall_clock
from boflyt.engine.store.db import read_scope, write_scope
from boflyt.engine.store.queries import case_timeline
from boflyt.engine.store.statements import (
    CASE_TABLE,
    EVENT_TABLE,
    ITEM_TABLE,
    compare_and_set,
    last_event,
    load_case,
    published_flow,
    translate_errors,
    utc,
    write_events,
)
from boflyt.models.errors import CommandError, ConflictError
from boflyt.models.events import Event
from boflyt.models.vocabulary import EventKind, ItemStatus, Mode, RunStatus

__all__ = ["DeadlineScan", "escalate_due", "remind", "scan_deadlines"]


@dataclass(frozen=True)
class DeadlineScan:
    """What one :func:`scan_deadlines` did: items reminded and escalated, cases skipped
    (changed meanwhile, or with events later than ``now``; the next scan takes them)."""

    reminded: int
    escalated: int
    skipped: int


def remind(
    engine: sa.Engine,
    case_id: str,
    due: Mapping[int, dt.datetime],
    *,
    now: dt.datetime,
    clock: Clock = wall_clock,
) -> int:
    """Remind the organisations of the case's open items in ``due`` (item number → due date).

    Writes a ``step_reminded`` event (detail: the due date) for each open, not yet escalated
    item never reminded before, and queues its e-mail notice, in one transaction. Returns how
    many items were reminded; 0 for a case that is not a running live case.

    Raises :class:`~boflyt.models.errors.ConflictError` when the case changed meanwhile and
    :class:`~boflyt.models.errors.CommandError` when ``now`` is before its last event.
    """
    now = utc(now)

    def run() -> int:
        with write_scope(engine) as conn:
            state, row_version, mode, simulation_id = load_case(conn, case_id)
            if state.status is not RunStatus.RUNNING or mode is not Mode.LIVE or simulation_id:
                return 0
            reminded = set(
                conn.execute(
                    sa.select(EVENT_TABLE.c.item).where(
                        EVENT_TABLE.c.case_id == case_id,
                        EVENT_TABLE.c.kind == EventKind.STEP_REMINDED.value,
                    )
                ).scalars()
            )
            items = [
                item
                for item in state.items
                if item.number in due
                and item.status in OPEN_STATUSES
                and not item.escalated
                and item.number not in reminded
            ]
            if not items:
                return 0
            last, last_hash = last_event(conn, case_id, state.seq)
            present = utc(clock())
            bounds.check_time(now, last=last, present=present)
            flow = published_flow(conn, state.process, state.version, state.content_hash)
            events = [
                Event(
                    case_id,
                    state.seq + n,
                    EventKind.STEP_REMINDED,
                    now,
                    item.step,
                    item.number,
                    flow.steps[item.step].lane,
                    actor="system",
                    detail=f"due {due[item.number]:%Y-%m-%d %H:%M}",
                )
                for n, item in enumerate(items, start=1)
            ]
            new_state = state._replace(seq=state.seq + len(events))
            compare_and_set(conn, new_state, row_version)
            hashes = audit.chain_events(events, new_state, mode, None, last_hash or audit.GENESIS)
            write_events(conn, events, new_state, mode, None, hashes)
            outbox.notify_in(conn, events, new_state, now=now, due=due)
            return len(events)

    return translate_errors(run)


def escalate_due(
    engine: sa.Engine,
    case_id: str,
    due: Mapping[int, dt.datetime],
    *,
    now: dt.datetime,
    clock: Clock = wall_clock,
) -> int:
    """Escalate the case's open items in ``due`` (item number → the deadline they missed).

    One ``step_escalated`` event per open item not escalated before, and its e-mail notice, in
    the case's command transaction. Returns how many were escalated (0 when none was left).
    """
    with read_scope(engine) as conn:
        state, _, mode, simulation_id = load_case(conn, case_id)
    if state.status is not RunStatus.RUNNING or mode is not Mode.LIVE or simulation_id:
        return 0
    items = tuple(
        item.number
        for item in state.items
        if item.number in due and item.status in OPEN_STATUSES and not item.escalated
    )
    if not items:
        return 0
    _command(engine, case_id, Escalate(items, "the deadline has passed"), now, clock, due=due)
    return len(items)


def scan_deadlines(
    engine: sa.Engine,
    *,
    now: dt.datetime,
    calendar: WorkCalendar,
    ahead: float = 2,
    clock: Clock = wall_clock,
) -> DeadlineScan:
    """Remind and escalate the open items of running live cases by their steps' deadlines.

    An item whose declared deadline is at most ``ahead`` working days of ``calendar`` away is
    reminded (:func:`remind`); one whose deadline has passed is escalated (:func:`escalate_due`).
    Each case in its own transactions; running it again changes nothing.
    """
    now = utc(now)
    query = (
        sa.select(ITEM_TABLE.c.case_id)
        .join(CASE_TABLE, CASE_TABLE.c.id == ITEM_TABLE.c.case_id)
        .where(CASE_TABLE.c.status == RunStatus.RUNNING.value, CASE_TABLE.c.mode == Mode.LIVE.value)
        .where(CASE_TABLE.c.simulation_id.is_(None))
        .where(ITEM_TABLE.c.status.in_([ItemStatus.READY.value, ItemStatus.STARTED.value]))
        .where(ITEM_TABLE.c.escalated.is_(False))
        .distinct()
    )
    with read_scope(engine) as conn:
        case_ids = sorted(conn.execute(query).scalars())
    reach = ahead * calendar.minutes_per_day
    reminded = escalated = skipped = 0
    for case_id in case_ids:
        with read_scope(engine) as conn:
            state = load_case(conn, case_id)[0]
            flow = published_flow(conn, state.process, state.version, state.content_hash)
        if not any(step.deadline is not None for step in flow.version.steps):
            continue
        events = case_timeline(engine, case_id)
        dues = [d for d in due_items(flow, state, now=now, calendar=calendar, events=events)
                if d.declared]  # fmt: skip
        late = {d.item: d.due_at for d in dues if d.overdue}
        near = {d.item: d.due_at for d in dues if not d.overdue
                and calendar.minutes(d.due_at) - calendar.minutes(now) <= reach}  # fmt: skip
        try:
            if near:
                reminded += remind(engine, case_id, near, now=now, clock=clock)
            if late:
                escalated += escalate_due(engine, case_id, late, now=now, clock=clock)
        except (ConflictError, CommandError):
            skipped += 1
    return DeadlineScan(reminded, escalated, skipped)
