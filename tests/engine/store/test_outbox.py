"""The outbox: notices written in their event's transaction, one per dedupe key, and the row's
life (claim, committing, sent; retry with backoff; recovery after a crash)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from unittest import mock

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.engine.case.decide import replay
from boflyt.engine.store import commands as store
from boflyt.engine.store import outbox
from boflyt.engine.store.db import read_scope
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.engine.store.reminders import escalate_due, remind
from boflyt.engine.store.statements import EVENT_TABLE
from boflyt.models.vocabulary import EventKind, NoticeKind, OutboxStatus
from tests.factories import linear_version

MONDAY = dt.datetime(2025, 1, 6, 9, 0)
DUE = dt.datetime(2025, 1, 8, 15, 30)
RECIPIENTS = {
    "housing_office": outbox.Recipient("bolig@kommune.example"),
    "nav": outbox.Recipient("nav@kommune.example", handoffs=True),
}


@pytest.fixture
def key(tmp_path: Path) -> ReferenceKey:
    return ReferenceKey.load_or_create(tmp_path / "keys" / "reference.key")


def _start(engine: Engine, key: ReferenceKey, ref: str = "A-1") -> str:
    state = store.start_case(engine, version=linear_version(), ref=ref, key=key, actor="ann",
                             org="housing_office", now=MONDAY)  # fmt: skip
    return state.case_id


def _rows(engine: Engine) -> list[outbox.OutboxMessage]:
    return sorted(outbox.list_outbox(engine), key=lambda row: row.id)


def _kinds(engine: Engine, case_id: str) -> list[str]:
    with read_scope(engine) as conn:
        query = sa.select(EVENT_TABLE.c.kind).where(EVENT_TABLE.c.case_id == case_id)
        return list(conn.execute(query.order_by(EVENT_TABLE.c.seq)).scalars())


def test_a_reminder_and_an_escalation_are_queued_once_each_with_their_events(any_engine, key):
    outbox.subscribe(any_engine, RECIPIENTS)
    case_id = _start(any_engine, key)
    now = MONDAY + dt.timedelta(days=1)
    assert remind(any_engine, case_id, {2: DUE}, now=now) == 1
    assert remind(any_engine, case_id, {2: DUE}, now=now) == 0  # reminded before
    later = DUE + dt.timedelta(days=1)
    assert escalate_due(any_engine, case_id, {2: DUE}, now=later) == 1
    assert escalate_due(any_engine, case_id, {2: DUE}, now=later) == 0
    rows = _rows(any_engine)
    assert [(r.kind, r.org, r.step, r.due_at) for r in rows] == [
        (NoticeKind.REMINDER, "housing_office", "a", DUE),
        (NoticeKind.ESCALATION, "housing_office", "a", DUE),
    ]
    assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert rows[0].message_id != rows[1].message_id
    kinds = _kinds(any_engine, case_id)
    assert kinds.count("step_reminded") == 1 and kinds.count("step_escalated") == 1


def test_the_dedupe_key_refuses_a_second_notice_for_one_deadline(sqlite_engine, key):
    case_id = _start(sqlite_engine, key)
    notice = outbox.Notice(NoticeKind.ESCALATION, "nav", case_id, "p", 1, "b", DUE, item=2)
    from boflyt.engine.store.db import write_scope

    with write_scope(sqlite_engine) as conn:
        assert outbox.enqueue_in(conn, notice, now=MONDAY)
        assert not outbox.enqueue_in(conn, notice, now=MONDAY)
    assert len(_rows(sqlite_engine)) == 1


def test_a_failing_event_write_leaves_no_notice_behind(sqlite_engine, key):
    outbox.subscribe(sqlite_engine, RECIPIENTS)
    case_id = _start(sqlite_engine, key)
    with (
        mock.patch("boflyt.engine.store.reminders.write_events", side_effect=RuntimeError("disk")),
        pytest.raises(RuntimeError),
    ):
        remind(sqlite_engine, case_id, {2: DUE}, now=MONDAY + dt.timedelta(hours=1))
    assert _rows(sqlite_engine) == []
    assert "step_reminded" not in _kinds(sqlite_engine, case_id)


def test_replay_passes_over_a_reminder(sqlite_engine, key):
    outbox.subscribe(sqlite_engine, RECIPIENTS)
    case_id = _start(sqlite_engine, key)
    remind(sqlite_engine, case_id, {2: DUE}, now=MONDAY + dt.timedelta(hours=1))
    store.complete_step(sqlite_engine, step="a", case_id=case_id, actor="ann",
                        org="housing_office", now=MONDAY + dt.timedelta(hours=2))  # fmt: skip
    timeline = store.case_timeline(sqlite_engine, case_id)
    assert EventKind.STEP_REMINDED in [event.kind for event in timeline]
    assert replay(linear_version(), timeline) == store.get_case(sqlite_engine, case_id)


def test_handoffs_only_for_an_organisation_that_asked_and_nothing_without_subscribers(
    sqlite_engine, key
):
    case_id = _start(sqlite_engine, key, "A-1")
    given = {"case_id": case_id, "actor": "ann", "org": "housing_office"}
    store.complete_step(sqlite_engine, step="a", now=MONDAY + dt.timedelta(hours=1), **given)  # type: ignore[arg-type]
    assert _rows(sqlite_engine) == []  # nobody subscribed
    outbox.subscribe(sqlite_engine, RECIPIENTS)
    other = _start(sqlite_engine, key, "A-2")
    given["case_id"] = other
    store.complete_step(sqlite_engine, step="a", now=MONDAY + dt.timedelta(hours=1), **given)  # type: ignore[arg-type]
    (row,) = _rows(sqlite_engine)
    assert (row.kind, row.org, row.case_id, row.step) == (NoticeKind.HANDOFF, "nav", other, "b")
    outbox.subscribe(sqlite_engine, {"nav": outbox.Recipient("nav@kommune.example")})
    third = _start(sqlite_engine, key, "A-3")
    given["case_id"] = third
    store.complete_step(sqlite_engine, step="a", now=MONDAY + dt.timedelta(hours=1), **given)  # type: ignore[arg-type]
    assert len(_rows(sqlite_engine)) == 1  # nav no longer wants handoffs


def _queued(engine: Engine, key: ReferenceKey) -> outbox.OutboxMessage:
    outbox.subscribe(engine, RECIPIENTS)
    case_id = _start(engine, key)
    remind(engine, case_id, {2: DUE}, now=MONDAY + dt.timedelta(hours=1))
    (row,) = _rows(engine)
    return row


def test_a_row_is_claimed_once_and_moves_to_sent(any_engine, key):
    _queued(any_engine, key)
    now = MONDAY + dt.timedelta(hours=2)
    (claimed,) = outbox.claim(any_engine, now=now)
    assert claimed.status is OutboxStatus.SENDING and claimed.claim_token
    assert outbox.claim(any_engine, now=now) == []
    assert outbox.mark_committing(any_engine, claimed)
    assert outbox.mark_sent(any_engine, claimed, now=now)
    (row,) = _rows(any_engine)
    assert (row.status, row.sent_at, row.attempts) == (OutboxStatus.SENT, now, 1)
    assert not outbox.mark_sent(any_engine, claimed, now=now)  # the claim is spent


def test_a_refusal_waits_twice_as_long_each_time_and_fails_at_the_limit(sqlite_engine, key):
    _queued(sqlite_engine, key)
    now = MONDAY + dt.timedelta(hours=2)
    waits = []
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        (claimed,) = outbox.claim(sqlite_engine, now=now)
        outbox.mark_retry(sqlite_engine, claimed, now=now, error="451 try later")
        (row,) = _rows(sqlite_engine)
        assert outbox.claim(sqlite_engine, now=row.next_attempt_at - dt.timedelta(seconds=1)) == []
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert waits[:4] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    (claimed,) = outbox.claim(sqlite_engine, now=now)
    outbox.mark_retry(sqlite_engine, claimed, now=now, error="451 try later")
    (row,) = _rows(sqlite_engine)
    assert row.status is OutboxStatus.FAILED and "10 attempts" in (row.last_error or "")


def test_recovery_sends_an_unfinished_message_again_but_holds_an_uncertain_one(sqlite_engine, key):
    outbox.subscribe(sqlite_engine, RECIPIENTS)
    case_id = _start(sqlite_engine, key)
    remind(sqlite_engine, case_id, {2: DUE}, now=MONDAY + dt.timedelta(hours=1))
    escalate_due(sqlite_engine, case_id, {2: DUE}, now=DUE + dt.timedelta(hours=1))
    now = DUE + dt.timedelta(hours=2)
    first, second = outbox.claim(sqlite_engine, now=now)
    outbox.mark_committing(sqlite_engine, second)
    lease = dt.timedelta(minutes=10)
    assert outbox.recover(sqlite_engine, now=now + dt.timedelta(minutes=5), lease=lease) == (0, 0)
    assert outbox.recover(sqlite_engine, now=now + dt.timedelta(minutes=11), lease=lease) == (1, 1)
    by_id = {row.id: row for row in _rows(sqlite_engine)}
    assert by_id[first.id].status is OutboxStatus.PENDING
    assert by_id[second.id].status is OutboxStatus.UNCERTAIN
    assert not outbox.mark_sent(sqlite_engine, second, now=now)  # the dead worker's claim
    later = now + dt.timedelta(minutes=12)
    assert [row.id for row in outbox.claim(sqlite_engine, now=later)] == [first.id]
    requeued = outbox.requeue(sqlite_engine, second.id, now=later)
    assert requeued is not None and requeued.status is OutboxStatus.PENDING
    assert outbox.requeue(sqlite_engine, second.id, now=later) is None
