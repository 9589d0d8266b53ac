"""The deadline notices: a reminder when a declared deadline is near (counted in working days,
so Easter does not count), an escalation once it has passed, nothing on a closed day, each
notice sent once to the organisation's address from boflyt.toml; the Prefect flow does the same.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from boflyt.engine.store import commands as store
from boflyt.engine.store import outbox
from boflyt.engine.store.reminders import scan_deadlines
from boflyt.flows.deadlines import run_deadlines
from boflyt.models.definition import Version
from boflyt.models.vocabulary import EventKind, NoticeKind, OutboxStatus
from boflyt.workspace import Workspace
from tests.factories import chain, make_version
from tests.fixtures.smtp import CountingServer

READY = dt.datetime(2025, 4, 16, 8, 0)  # Wednesday before Easter, 10:00 in Oslo
"""Step ``a`` becomes ready; 3 working days later (Thursday 17, Friday 18 and Monday 21 April
are holidays) it is due on Thursday 24 April."""
DUE_DAY = dt.date(2025, 4, 24)
MORNING = dt.time(5, 0)  # 07:00 in Oslo (summer time)
TOML = """\
[notifications.housing_office]
address = "bolig@kommune.example"

[notifications.nav]
address = "nav@kommune.example"
handoffs = true
"""


def deadline_version() -> Version:
    """start -> a (housing_office, 3 working days) -> b (nav) -> end."""
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "a", "kind": "task", "touch_minutes": 30, "wait_days": 1,
             "deadline": {"days": 3, "basis": "forvaltningsloven § 11a"}},
            {"id": "b", "kind": "task", "lane": "nav", "touch_minutes": 60, "wait_days": 2},
            {"id": "end", "kind": "end", "lane": "nav"},
        ],
        chain("start", "a", "b", "end"),
    )  # fmt: skip


@pytest.fixture
def workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: CountingServer
) -> Workspace:
    (tmp_path / "boflyt.toml").write_text(TOML, encoding="utf-8")
    for name in ("BOFLYT_DATABASE_URL", "BOFLYT_DATABASE_URL_SECRET", "BOFLYT_REFERENCE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOFLYT_HOME", str(tmp_path))
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BOFLYT_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("BOFLYT_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("BOFLYT_BASE_URL", "https://boflyt.kommune.example")
    return Workspace.current(tmp_path)


@pytest.fixture
def engine(workspace: Workspace) -> Iterator[Engine]:
    made = workspace.open_store()
    yield made
    made.dispose()


def _start(workspace: Workspace, engine: Engine, ref: str = "R-1") -> str:
    key = workspace.reference_key(engine)
    state = store.start_case(engine, version=deadline_version(), ref=ref, key=key, actor="ann",
                             org="housing_office", now=READY)  # fmt: skip
    return state.case_id


def _on(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, MORNING)


def _kinds(engine: Engine, case_id: str) -> list[EventKind]:
    return [event.kind for event in store.case_timeline(engine, case_id)]


def test_the_workspace_subscribes_its_organisations_when_it_opens_the_store(engine):
    assert outbox.recipients_of(engine) == {
        "housing_office": outbox.Recipient("bolig@kommune.example"),
        "nav": outbox.Recipient("nav@kommune.example", handoffs=True),
    }


def test_a_reminder_two_working_days_ahead_counting_easter_then_one_escalation(
    workspace, engine, smtp_server
):
    case_id = _start(workspace, engine)
    calendar = workspace.calendar()
    tuesday = _on(dt.date(2025, 4, 22))  # after Easter Monday: three working days ahead
    assert scan_deadlines(engine, now=tuesday, calendar=calendar, ahead=2).reminded == 0
    wednesday = _on(dt.date(2025, 4, 23))
    assert scan_deadlines(engine, now=wednesday, calendar=calendar, ahead=2).reminded == 1
    assert scan_deadlines(engine, now=wednesday, calendar=calendar, ahead=2).reminded == 0
    friday = _on(dt.date(2025, 4, 25))
    scan = scan_deadlines(engine, now=friday, calendar=calendar, ahead=2)
    assert (scan.reminded, scan.escalated) == (0, 1)
    assert scan_deadlines(engine, now=friday, calendar=calendar, ahead=2).escalated == 0
    kinds = _kinds(engine, case_id)
    assert kinds.count(EventKind.STEP_REMINDED) == 1
    assert kinds.count(EventKind.STEP_ESCALATED) == 1
    rows = sorted(outbox.list_outbox(engine), key=lambda row: row.id)
    assert [(r.kind, r.org) for r in rows] == [
        (NoticeKind.REMINDER, "housing_office"),
        (NoticeKind.ESCALATION, "housing_office"),
    ]
    assert {r.due_at.date() for r in rows if r.due_at} == {DUE_DAY}


def test_the_inbox_marks_a_reminded_item(workspace, engine, smtp_server):
    case_id = _start(workspace, engine)
    wednesday = _on(dt.date(2025, 4, 23))
    (before,) = store.inbox(engine, org="housing_office", now=wednesday)
    assert (before.case_id, before.reminded) == (case_id, False)
    scan_deadlines(engine, now=wednesday, calendar=workspace.calendar(), ahead=2)
    (after,) = store.inbox(engine, org="housing_office", now=wednesday)
    assert after.reminded and not after.escalated


def test_a_closed_day_does_nothing(workspace, engine, smtp_server):
    case_id = _start(workspace, engine)
    easter_monday = run_deadlines(workspace, now=_on(dt.date(2025, 4, 21)))
    assert easter_monday.closed and easter_monday.reminded == 0
    (workspace.root / "closed-days.txt").write_text("2025-04-23 planning day\n", encoding="utf-8")
    closed = run_deadlines(workspace, now=_on(dt.date(2025, 4, 23)))
    assert closed.closed
    assert EventKind.STEP_REMINDED not in _kinds(engine, case_id)
    assert outbox.list_outbox(engine) == [] and smtp_server.received == {}


def test_a_run_reminds_escalates_and_mails_each_notice_once(workspace, engine, smtp_server):
    case_id = _start(workspace, engine)
    first = run_deadlines(workspace, now=_on(dt.date(2025, 4, 23)))
    assert (first.reminded, first.sent and first.sent.sent) == (1, 1)
    again = run_deadlines(workspace, now=_on(dt.date(2025, 4, 23)) + dt.timedelta(hours=2))
    assert (again.reminded, again.sent and again.sent.sent) == (0, 0)
    late = run_deadlines(workspace, now=_on(dt.date(2025, 4, 25)))
    assert (late.escalated, late.sent and late.sent.sent) == (1, 1)
    reminder, escalation = smtp_server.messages
    assert reminder["To"] == escalation["To"] == "bolig@kommune.example"
    assert "24.04.2025" in reminder["Subject"] and "24.04.2025" in escalation["Subject"]
    link = f"https://boflyt.kommune.example/cases/{case_id}"
    assert all(link in m.get_content() for m in (reminder, escalation))  # type: ignore[attr-defined]
    assert all("R-1" not in m.as_string() for m in (reminder, escalation))
    assert {r.status for r in outbox.list_outbox(engine)} == {OutboxStatus.SENT}


def test_a_handoff_mails_the_organisation_that_asked_for_handoffs(workspace, engine, smtp_server):
    case_id = _start(workspace, engine)
    store.complete_step(engine, step="a", case_id=case_id, actor="ann", org="housing_office",
                        now=READY + dt.timedelta(hours=1))  # fmt: skip
    (row,) = outbox.list_outbox(engine)
    assert (row.kind, row.org, row.step) == (NoticeKind.HANDOFF, "nav", "b")
    run_deadlines(workspace, now=_on(dt.date(2025, 4, 23)))
    (mail,) = smtp_server.messages
    assert mail["To"] == "nav@kommune.example"


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_the_prefect_flow_does_the_same_on_the_workers_store(workspace, engine, smtp_server):
    from boflyt.flows.deadlines import deadline_notices

    _start(workspace, engine)
    result = asyncio.run(deadline_notices(now=_on(dt.date(2025, 4, 23)).isoformat()))
    assert (result["day"], result["closed"], result["reminded"]) == ("2025-04-23", False, 1)
    assert len(smtp_server.messages) == 1
