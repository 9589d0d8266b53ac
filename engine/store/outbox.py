"""The outbox: e-mail notifications written with the event that caused them, sent by a worker.

A reminder before a deadline, an escalation after it and (for an organisation that asked for
them) a handoff notice are rows of the ``outbox`` table written **in the transaction of their
event** (:func:`enqueue_in`, :func:`notify_in`): the event and its notice commit together or not
at all. ``dedupe_key`` is unique, so one missed deadline queues at most one reminder and one
escalation however often the scan runs; a second insert of the same key is skipped.

A worker then sends the rows (:mod:`boflyt.flows.outbox`), each through these steps, every
step its own committed transaction:

1. :func:`claim` — ``pending`` → ``sending`` with a fresh claim token (compare-and-set, so two
   workers never claim one row);
2. the SMTP conversation up to the message's last line, then :func:`mark_committing` —
   ``sending`` → ``committing``, committed *before* the end-of-data line is written;
3. the end-of-data line and the server's reply, then :func:`mark_sent` (or :func:`mark_retry`
   after a 4xx reply, :func:`mark_failed` after a 5xx).

After a crash, :func:`recover` looks at rows whose claim is older than the lease: one left
``sending`` never sent its end-of-data line, and an SMTP server discards a message whose data
never ended (RFC 5321, 4.1.1.4), so it is safe to send again (back to ``pending``); one left
``committing`` may or may not have been delivered, so it becomes ``uncertain`` and is **never
sent again by itself** — an operator looks for its Message-ID (fixed when the row was written,
the same on every attempt) in the mail server's log and then :func:`requeue`s it or leaves it.
So a notice is sent at most once, and exactly once unless a crash falls in the moment between
step 2's commit and the server's reply.

Which organisations get e-mail, and which of them want handoff notices, is the workspace's to
say; the store learns it from :func:`subscribe` (the workspace calls it when it opens the
store). With nobody subscribed :func:`notify_in` returns at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from boflyt.engine.case.state import CaseState
from boflyt.engine.store.db import read_scope, write_scope
from boflyt.engine.store.statements import OUTBOX_COLUMNS
from boflyt.models.events import Event
from boflyt.models.tables import OutboxRow
from boflyt.models.vocabulary import EventKind, NoticeKind, OutboxStatus

__all__ = [
    "OUTBOX_TABLE",
    "Notice",
    "OutboxMessage",
    "Recipient",
    "backoff",
    "claim",
    "enqueue_in",
    "enqueue_sqlite",
    "list_outbox",
    "mark_committing",
    "mark_failed",
    "mark_retry",
    "mark_sent",
    "mark_uncertain",
    "message_id",
    "notice_rows",
    "notices",
    "notify_in",
    "recipients_of",
    "recover",
    "requeue",
    "subscribe",
]

OUTBOX_TABLE: sa.Table = OutboxRow.__table__  # type: ignore[attr-defined]

BACKOFF_BASE = dt.timedelta(minutes=1)
"""The wait after the first refused attempt; it doubles with each further one."""
BACKOFF_CAP = dt.timedelta(hours=6)
"""The longest wait between two attempts."""
MAX_ATTEMPTS = 10
"""Attempts after which a row that is still refused (4xx) is ``failed``."""


@dataclass(frozen=True)
class Recipient:
    """Where an organisation's notices go: its e-mail address, and whether it wants handoffs."""

    address: str
    handoffs: bool = False


@dataclass(frozen=True)
class Notice:
    """One notification to queue: why, to which organisation, about which case and step.

    >>> Notice(NoticeKind.REMINDER, "nav", "c1", "p", 1, "visit", None, 2).dedupe_key
    'reminder:c1:2'
    """

    kind: NoticeKind
    org: str
    case_id: str
    process: str
    version: int
    step: str | None
    due_at: dt.datetime | None
    item: int | None = None
    """The work item (reminders and escalations: one of each per item)."""
    seq: int | None = None
    """The handoff event's number (handoffs: one notice per handoff)."""

    @property
    def dedupe_key(self) -> str:
        """``kind:case:item`` (``kind:case:seq`` for a handoff): unique in the outbox."""
        number = self.seq if self.kind is NoticeKind.HANDOFF else self.item
        return f"{self.kind.value}:{self.case_id}:{number}"


@dataclass(frozen=True)
class OutboxMessage:
    """An outbox row as read."""

    id: int
    dedupe_key: str
    kind: NoticeKind
    org: str
    case_id: str
    process: str
    version: int
    step: str | None
    due_at: dt.datetime | None
    created_at: dt.datetime
    status: OutboxStatus
    attempts: int
    next_attempt_at: dt.datetime
    claim_token: str | None
    message_id: str
    sent_at: dt.datetime | None
    last_error: str | None


def message_id(dedupe_key: str) -> str:
    """The Message-ID every attempt of a notice sends: derived from its dedupe key.

    >>> message_id("reminder:c1:2")
    '<reminder.6dc912e0584b771ead8468be@boflyt.invalid>'
    """
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:24]
    return f"<{dedupe_key.split(':', 1)[0]}.{digest}@boflyt.invalid>"


def backoff(attempts: int) -> dt.timedelta:
    """The wait before the next attempt after ``attempts`` refused ones: 1, 2, 4 … minutes,
    at most :data:`BACKOFF_CAP`.

    >>> [int(backoff(n).total_seconds() // 60) for n in (1, 2, 3, 10)]
    [1, 2, 4, 360]
    """
    return min(BACKOFF_BASE * (1 << max(attempts - 1, 0)), BACKOFF_CAP)


# --------------------------------------------------------------------------- writing


_subscribed: weakref.WeakKeyDictionary[Engine, Mapping[str, Recipient]] = (
    weakref.WeakKeyDictionary()
)


def subscribe(engine: Engine, recipients: Mapping[str, Recipient]) -> None:
    """Say which organisations of the store behind ``engine`` get e-mail (the workspace's
    ``[notifications]``); an empty mapping turns notices off."""
    if recipients:
        _subscribed[engine] = dict(recipients)
    else:
        _subscribed.pop(engine, None)


def recipients_of(engine: Engine) -> Mapping[str, Recipient]:
    """The organisations that get e-mail from the store behind ``engine`` (:func:`subscribe`)."""
    return _subscribed.get(engine, {})


def _values(notice: Notice, now: dt.datetime) -> dict[str, Any]:
    key = notice.dedupe_key
    return {
        "dedupe_key": key,
        "kind": notice.kind.value,
        "org": notice.org,
        "case_id": notice.case_id,
        "process": notice.process,
        "version": notice.version,
        "step": notice.step,
        "due_at": notice.due_at,
        "created_at": now,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "message_id": message_id(key),
    }


def enqueue_in(conn: Connection, notice: Notice, *, now: dt.datetime) -> bool:
    """Queue ``notice`` in the caller's transaction; False when its dedupe key is queued already."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(OUTBOX_TABLE).values(**_values(notice, now)).on_conflict_do_nothing()
    return bool(conn.execute(statement).rowcount == 1)


def notice_rows(notices: Iterable[Notice], *, now: dt.datetime) -> list[dict[str, Any]]:
    """The outbox rows of ``notices`` queued at ``now``, by :data:`OUTBOX_COLUMNS` (a PostgreSQL
    command writes them in its one statement)."""
    return [_values(notice, now) for notice in notices]


_SQLITE_ENQUEUE = (
    f"INSERT INTO outbox ({', '.join(OUTBOX_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(OUTBOX_COLUMNS))}) ON CONFLICT DO NOTHING"
)


def enqueue_sqlite(
    driver: sqlite3.Connection, notices: Iterable[Notice], *, now: dt.datetime
) -> int:
    """:func:`enqueue_in` of each of ``notices`` on the SQLite driver's connection, in its open
    transaction (a command's own path); how many were queued."""
    queued = 0
    for notice in notices:
        values = _values(notice, now)
        for name in ("due_at", "created_at", "next_attempt_at"):  # SQLAlchemy's DATETIME text
            at = values[name]
            values[name] = None if at is None else at.isoformat(" ", "microseconds")
        row = [values[name] for name in OUTBOX_COLUMNS]
        queued += driver.execute(_SQLITE_ENQUEUE, row).rowcount
    return queued


def notify_in(
    conn: Connection,
    events: Iterable[Event],
    state: CaseState,
    *,
    now: dt.datetime,
    due: Mapping[int, dt.datetime] | None = None,
) -> int:
    """Queue the notices a command's ``events`` cause, in the command's transaction.

    An escalation goes to the escalated step's organisation, a reminder likewise, a handoff to
    the receiving organisation when it asked for handoffs; only organisations with an address
    (:func:`subscribe`). ``due`` gives the due date of escalated or reminded items. Returns how
    many were queued; with nobody subscribed it reads nothing and returns 0.
    """
    return sum(enqueue_in(conn, n, now=now) for n in notices(conn.engine, events, state, due=due))


def notices(
    engine: Engine,
    events: Iterable[Event],
    state: CaseState,
    *,
    due: Mapping[int, dt.datetime] | None = None,
) -> list[Notice]:
    """The notices :func:`notify_in` queues for ``events``: none when nobody is subscribed."""
    recipients = _subscribed.get(engine)
    if not recipients:
        return []
    found = (_notice(event, state, recipients, due or {}) for event in events)
    return [notice for notice in found if notice is not None]


_KINDS = {
    EventKind.STEP_ESCALATED: NoticeKind.ESCALATION,
    EventKind.STEP_REMINDED: NoticeKind.REMINDER,
}


def _notice(
    event: Event,
    state: CaseState,
    recipients: Mapping[str, Recipient],
    due: Mapping[int, dt.datetime],
) -> Notice | None:
    kind = _KINDS.get(event.kind)
    if kind is not None and event.lane is not None and event.lane in recipients:
        when = due.get(event.item) if event.item is not None else None
        return Notice(
            kind,
            event.lane,
            state.case_id,
            state.process,
            state.version,
            event.step,
            when,
            item=event.item,
        )
    if event.kind is EventKind.HANDOFF and event.to_lane is not None:
        recipient = recipients.get(event.to_lane)
        if recipient is not None and recipient.handoffs:
            return Notice(
                NoticeKind.HANDOFF,
                event.to_lane,
                state.case_id,
                state.process,
                state.version,
                event.to_step,
                None,
                seq=event.seq,
            )
    return None


# --------------------------------------------------------------------------- sending


def _read(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        dedupe_key=row.dedupe_key,
        kind=NoticeKind(row.kind),
        org=row.org,
        case_id=row.case_id,
        process=row.process,
        version=row.version,
        step=row.step,
        due_at=row.due_at,
        created_at=row.created_at,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        claim_token=row.claim_token,
        message_id=row.message_id,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


def recover(engine: Engine, *, now: dt.datetime, lease: dt.timedelta) -> tuple[int, int]:
    """Settle rows whose claim is older than ``lease`` (their worker died or hung).

    ``sending`` → ``pending`` (the message's data never ended: nothing was delivered);
    ``committing`` → ``uncertain`` (maybe delivered: never sent again by itself). Returns the
    two counts. ``lease`` must be longer than any worker takes over one message (the sender
    uses ten times its SMTP timeout).
    """
    stale = OUTBOX_TABLE.c.claimed_at < now - lease
    table = OUTBOX_TABLE
    with write_scope(engine) as conn:
        again = conn.execute(
            table.update()
            .where(table.c.status == OutboxStatus.SENDING.value, stale)
            .values(
                status=OutboxStatus.PENDING.value,
                claim_token=None,
                claimed_at=None,
                next_attempt_at=now,
            )
        ).rowcount
        held = conn.execute(
            table.update()
            .where(table.c.status == OutboxStatus.COMMITTING.value, stale)
            .values(
                status=OutboxStatus.UNCERTAIN.value,
                claim_token=None,
                last_error="the worker stopped while the message's end was going out; "
                "look for its Message-ID in the mail server's log",
            )
        ).rowcount
    return again, held


def claim(engine: Engine, *, now: dt.datetime, limit: int = 100) -> list[OutboxMessage]:
    """Claim up to ``limit`` due ``pending`` rows for this worker (``sending``, a fresh token),
    oldest first; a row another worker claimed meanwhile is skipped."""
    table = OUTBOX_TABLE
    due = (
        sa.select(table.c.id)
        .where(table.c.status == OutboxStatus.PENDING.value, table.c.next_attempt_at <= now)
        .order_by(table.c.id)
        .limit(limit)
    )
    claimed = []
    with write_scope(engine) as conn:
        for row_id in list(conn.execute(due).scalars()):
            token = str(uuid.uuid4())
            taken = conn.execute(
                table.update()
                .where(table.c.id == row_id, table.c.status == OutboxStatus.PENDING.value)
                .values(status=OutboxStatus.SENDING.value, claim_token=token, claimed_at=now)
            ).rowcount
            if taken == 1:
                row = conn.execute(table.select().where(table.c.id == row_id)).one()
                claimed.append(_read(row))
    return claimed


def _move(engine: Engine, message: OutboxMessage, status: OutboxStatus, **values: Any) -> bool:
    """Move a claimed row on, only while this worker's claim holds; False when it does not."""
    table = OUTBOX_TABLE
    with write_scope(engine) as conn:
        moved = conn.execute(
            table.update()
            .where(table.c.id == message.id, table.c.claim_token == message.claim_token)
            .values(status=status.value, **values)
        ).rowcount
    return bool(moved == 1)


def mark_committing(engine: Engine, message: OutboxMessage) -> bool:
    """``sending`` → ``committing``: committed before the message's end-of-data line is written.
    False when the claim was lost (the caller must then not finish the message)."""
    return _move(engine, message, OutboxStatus.COMMITTING)


def mark_sent(engine: Engine, message: OutboxMessage, *, now: dt.datetime) -> bool:
    """The server accepted the message: ``sent``, with the time."""
    return _move(
        engine,
        message,
        OutboxStatus.SENT,
        sent_at=now,
        claim_token=None,
        attempts=message.attempts + 1,
        last_error=None,
    )


def mark_retry(engine: Engine, message: OutboxMessage, *, now: dt.datetime, error: str) -> bool:
    """A refusal for now (4xx, or no connection): ``pending`` again after :func:`backoff`, or
    ``failed`` after :data:`MAX_ATTEMPTS` attempts."""
    attempts = message.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        return mark_failed(engine, message, error=f"{error} ({attempts} attempts)")
    return _move(
        engine,
        message,
        OutboxStatus.PENDING,
        attempts=attempts,
        claim_token=None,
        claimed_at=None,
        next_attempt_at=now + backoff(attempts),
        last_error=error[:500],
    )


def mark_uncertain(engine: Engine, message: OutboxMessage, *, error: str) -> bool:
    """The connection was lost after ``committing``: maybe delivered, never sent again by itself."""
    return _move(engine, message, OutboxStatus.UNCERTAIN, claim_token=None, last_error=error[:500])


def mark_failed(engine: Engine, message: OutboxMessage, *, error: str) -> bool:
    """A refusal for good (5xx, no address): ``failed``, never sent again by itself."""
    return _move(
        engine,
        message,
        OutboxStatus.FAILED,
        attempts=message.attempts + 1,
        claim_token=None,
        last_error=error[:500],
    )


def requeue(engine: Engine, row_id: int, *, now: dt.datetime) -> OutboxMessage | None:
    """An operator's decision: send an ``uncertain`` or ``failed`` row again (``pending``).
    None when there is no such row in one of those states."""
    table = OUTBOX_TABLE
    settled = (OutboxStatus.UNCERTAIN.value, OutboxStatus.FAILED.value)
    with write_scope(engine) as conn:
        moved = conn.execute(
            table.update()
            .where(table.c.id == row_id, table.c.status.in_(settled))
            .values(
                status=OutboxStatus.PENDING.value,
                next_attempt_at=now,
                claim_token=None,
                claimed_at=None,
                last_error=None,
            )
        ).rowcount
        if moved != 1:
            return None
        return _read(conn.execute(table.select().where(table.c.id == row_id)).one())


def list_outbox(
    engine: Engine,
    *,
    statuses: Sequence[OutboxStatus] = (),
    ids: Sequence[int] = (),
    limit: int = 1000,
) -> list[OutboxMessage]:
    """Outbox rows, newest first, of the given statuses and ids (all when none given)."""
    table = OUTBOX_TABLE
    query = table.select().order_by(table.c.id.desc()).limit(limit)
    if ids:
        query = query.where(table.c.id.in_(list(ids)))
    if statuses:
        query = query.where(table.c.status.in_([s.value for s in statuses]))
    with read_scope(engine) as conn:
        return [_read(row) for row in conn.execute(query)]
