"""The outbox's sender against a real local SMTP server (aiosmtpd): what an e-mail says (and
never says), retry with backoff after 4xx, failure after 5xx, and no notice sent twice when the
sending worker is killed mid-send again and again."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from boflyt.engine.store import commands as store
from boflyt.engine.store import outbox
from boflyt.engine.store.db import make_engine, open_schema
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.engine.store.reminders import escalate_due, remind
from boflyt.flows.outbox import SmtpServer, send_outbox
from boflyt.models.vocabulary import OutboxStatus
from boflyt.models.words import DEFAULT_LANGUAGE, ENGLISH
from tests.factories import linear_version
from tests.fixtures.smtp import CountingServer
from tests.flows import outbox_worker

MONDAY = dt.datetime(2025, 1, 6, 9, 0)
DUE = dt.datetime(2025, 1, 8, 15, 30)
REFERENCE = "REF-1234-personal"
RECIPIENTS = {
    "housing_office": outbox.Recipient("bolig@kommune.example"),
    "nav": outbox.Recipient("nav@kommune.example", handoffs=True),
}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'boflyt.db'}")
    open_schema(made)
    outbox.subscribe(made, RECIPIENTS)
    yield made
    made.dispose()


def _cases(engine: Engine, tmp_path: Path, n: int) -> list[str]:
    """``n`` cases, each reminded and escalated on its first task: 2n notices."""
    key = ReferenceKey.load_or_create(tmp_path / "keys" / "reference.key")
    ids = []
    for i in range(n):
        state = store.start_case(engine, version=linear_version(), ref=f"{REFERENCE}-{i}",
                                 key=key, actor="ann", org="housing_office",
                                 now=MONDAY)  # fmt: skip
        remind(engine, state.case_id, {2: DUE}, now=MONDAY + dt.timedelta(hours=1))
        escalate_due(engine, state.case_id, {2: DUE}, now=DUE + dt.timedelta(hours=1))
        ids.append(state.case_id)
    return ids


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def _send(engine: Engine, server: CountingServer, clock: Clock, **kw: object) -> object:
    smtp = SmtpServer(server.host, server.port, "boflyt@kommune.example", timeout=5)
    return send_outbox(engine, RECIPIENTS, smtp, base_url="https://boflyt.example/",
                       lang=kw.pop("lang", ENGLISH), now=clock, **kw)  # type: ignore[arg-type]  # fmt: skip


def test_each_notice_is_sent_once_naming_process_step_and_due_date_never_the_person(
    engine, smtp_server, tmp_path
):
    (case_id,) = _cases(engine, tmp_path, 1)
    report = _send(engine, smtp_server, Clock(DUE + dt.timedelta(hours=2)))
    assert report.sent == 2  # type: ignore[attr-defined]
    assert _send(engine, smtp_server, Clock(DUE + dt.timedelta(hours=3))).sent == 0  # type: ignore[attr-defined]
    reminder, escalation = smtp_server.messages
    assert reminder["To"] == "bolig@kommune.example"
    assert reminder["Subject"].startswith("Reminder: ")
    assert "08.01.2025 15:30" in reminder["Subject"]
    assert escalation["Subject"].startswith("Deadline passed: ")
    rows = {row.message_id: row for row in outbox.list_outbox(engine)}
    assert set(smtp_server.received) == set(rows)
    for message in (reminder, escalation):
        body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert f"https://boflyt.example/cases/{case_id}" in body
        assert "v1" in body and "08.01.2025 15:30" in body
        assert REFERENCE not in message.as_string() and "ann" not in body.split()
    assert {row.status for row in rows.values()} == {OutboxStatus.SENT}


def test_bokmal_is_the_default_language_of_the_mail(engine, smtp_server, tmp_path):
    _cases(engine, tmp_path, 1)
    _send(engine, smtp_server, Clock(DUE + dt.timedelta(hours=2)), lang=DEFAULT_LANGUAGE)
    assert smtp_server.messages[0]["Subject"].startswith("Påminnelse: ")


def test_a_4xx_refusal_is_retried_with_backoff_until_the_server_accepts(
    engine, smtp_server, tmp_path
):
    _cases(engine, tmp_path, 1)
    smtp_server.refuse = 3  # the reminder twice, then the escalation once
    clock = Clock(DUE + dt.timedelta(hours=2))
    first = _send(engine, smtp_server, clock, limit=1)
    assert (first.sent, first.retry) == (0, 1)  # type: ignore[attr-defined]
    (row,) = [r for r in outbox.list_outbox(engine) if r.attempts]
    assert row.next_attempt_at == clock.at + dt.timedelta(minutes=1)
    assert row.last_error is not None and row.last_error.startswith("451")
    clock.at += dt.timedelta(seconds=30)  # not due yet: the escalation is tried instead
    second = _send(engine, smtp_server, clock, limit=1)
    assert (second.sent, second.retry) == (0, 1)  # type: ignore[attr-defined]
    clock.at = row.next_attempt_at
    third = _send(engine, smtp_server, clock, limit=1)  # the reminder again: refused
    assert third.retry == 1  # type: ignore[attr-defined]
    (again,) = [r for r in outbox.list_outbox(engine) if r.id == row.id]
    assert again.next_attempt_at == clock.at + dt.timedelta(minutes=2)
    clock.at += dt.timedelta(minutes=5)
    last = _send(engine, smtp_server, clock)
    assert last.sent == 2  # type: ignore[attr-defined]
    assert sorted(smtp_server.received.values()) == [1, 1]


def test_a_5xx_refusal_fails_the_row_for_good(engine, smtp_server, tmp_path):
    _cases(engine, tmp_path, 1)
    smtp_server.refuse, smtp_server.refusal = 1, "550 5.1.1 no such mailbox"
    report = _send(engine, smtp_server, Clock(DUE + dt.timedelta(hours=2)))
    assert (report.sent, report.failed) == (1, 1)  # type: ignore[attr-defined]
    failed = outbox.list_outbox(engine, statuses=(OutboxStatus.FAILED,))
    assert len(failed) == 1 and (failed[0].last_error or "").startswith("550")


def test_no_server_means_retry_later_and_nothing_lost(engine, tmp_path):
    _cases(engine, tmp_path, 1)
    closed = CountingServer()
    closed.port = 1  # nothing listens there
    report = _send(engine, closed, Clock(DUE + dt.timedelta(hours=2)))
    assert report.retry == 2  # type: ignore[attr-defined]
    assert {r.status for r in outbox.list_outbox(engine)} == {OutboxStatus.PENDING}


KILLS = 20


@pytest.mark.slow
def test_killing_the_worker_mid_send_twenty_times_never_sends_a_notice_twice(
    engine, smtp_server, tmp_path
):
    """SIGKILL the sending worker (a subprocess) at random moments, 20 times; recover; finish.

    Every row ends ``sent`` (received exactly once) or ``uncertain`` (received at most once:
    the worker died between committing ``committing`` and the server's reply). No Message-ID
    arrives twice.
    """
    _cases(engine, tmp_path, 60)
    smtp_server.delay = 0.02
    url = str(engine.url)
    rng = random.Random(15)
    fork = multiprocessing.get_context(
        "fork"
    )  # a real process, without a fresh interpreter's start-up
    interrupted = 0  # rows a kill left claimed ('sending') or ending ('committing')
    for _ in range(KILLS):
        said, says = fork.Pipe(duplex=False)
        worker = fork.Process(target=outbox_worker.main, args=(url, smtp_server.port, says.send))
        worker.start()
        assert said.poll(30) and said.recv() == "ready"
        mails = smtp_server.mails
        deadline = time.monotonic() + 30
        while smtp_server.mails == mails and time.monotonic() < deadline:
            time.sleep(0.001)  # until the worker has begun its first message
        time.sleep(rng.uniform(0.0, 0.1))
        os.kill(worker.pid or 0, signal.SIGKILL)
        worker.join()
        assert worker.exitcode == -signal.SIGKILL
        again, held = outbox.recover(engine, now=_wall() + dt.timedelta(seconds=1),
                                     lease=dt.timedelta(0))  # fmt: skip
        interrupted += again + held
    said, says = fork.Pipe(duplex=False)
    finisher = fork.Process(target=outbox_worker.main, args=(url, smtp_server.port, says.send))
    finisher.start()
    finisher.join(120)
    assert finisher.exitcode == 0
    assert [said.recv(), said.recv()] == ["ready", "done"]
    rows = outbox.list_outbox(engine)
    assert len(rows) == 120
    assert interrupted >= KILLS // 2  # the kills did fall while mail was going out
    assert max(smtp_server.received.values()) == 1  # nothing twice
    by_status = {s: [r for r in rows if r.status is s] for s in OutboxStatus}
    assert len(by_status[OutboxStatus.SENT]) + len(by_status[OutboxStatus.UNCERTAIN]) == 120
    for row in by_status[OutboxStatus.SENT]:
        assert smtp_server.received[row.message_id] == 1
    uncertain = by_status[OutboxStatus.UNCERTAIN]
    assert len(uncertain) <= KILLS  # at most one per kill: the row it was finishing
    # The operator's step for an uncertain row: look for its Message-ID in the mail server's
    # log; send it again only when it is not there.
    lost = [row for row in uncertain if not smtp_server.received[row.message_id]]
    for row in lost:
        assert outbox.requeue(engine, row.id, now=_wall()) is not None
    outbox_worker.main(url, smtp_server.port, lambda _: None)
    assert [smtp_server.received[row.message_id] for row in rows] == [1] * len(rows)
    print(f"uncertain after {KILLS} kills: {len(uncertain)}, never delivered: {len(lost)}")


def _wall() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
