"""Reminders before a deadline and escalations after it, each with its notice in one transaction.

:func:`remind` writes one ``step_reminded`` event per open work item whose deadline is near (at
most one per item: an item reminded before is skipped), and :func:`escalate_due` one
``step_escalated`` event per open item past its deadline (the case engine's own rule: an item is
escalated once). Each runs in the case's command transaction (compare-and-set on ``row_version``,
events hash-chained like any command's) and queues the e-mail notices in that same transaction
(:func:`boflyt.engine.store.outbox.notify_in`), so an event and its notice commit together.
``step_reminded`` changes no state: :func:`boflyt.engine.case.decide.replay` passes over it.

Which items are due and when is the caller's (the deadlines of
:mod:`boflyt.engine.case.deadlines`, computed by :mod:`boflyt.flows.deadlines`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import sqlalchemy as sa

from boflyt.engine.case import bounds
from boflyt.engine.case.commands import Escalate
from boflyt.engine.case.state import OPEN_STATUSES
from boflyt.engine.store import audit, outbox
from boflyt.engine.store.commands import Clock, _command, wall_clock
from boflyt.engine.store.db import read_scope, write_scope
from boflyt.engine.store.statements import (
    EVENT_TABLE,
    compare_and_set,
    last_event,
    load_case,
    published_flow,
    translate_errors,
    utc,
    write_events,
)
from boflyt.models.events import Event
from boflyt.models.vocabulary import EventKind, Mode, RunStatus

__all__ = ["escalate_due", "remind"]


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
