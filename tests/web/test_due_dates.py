"""Due dates on the inbox and the case page: a step's declared deadline (its day and legal
basis) on the workspace's calendar, with its closed days; the wait rule otherwise."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from boflyt.engine.calendar import DEFAULT_CALENDAR
from boflyt.engine.definition.load import Library
from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.definition import Version
from boflyt.models.vocabulary import Role
from boflyt.web.app import WebConfig, create_app
from tests.factories import chain, make_version
from tests.web.conftest import MONDAY, PASSWORD, Clock, log_in

CLOSED = dt.date(2025, 1, 8)  # a Wednesday the municipality is closed


def deadline_version() -> Version:
    """start -> notice (housing office, 3 working days) -> relay -> answer (NAV, 14 calendar
    days from the notice) -> follow_up (the wait rule) -> end."""
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "notice", "kind": "task",
             "deadline": {"days": 3, "basis": "husleieloven § 4-18"}},
            {"id": "relay", "kind": "task"},
            {"id": "answer", "kind": "task", "lane": "nav", "wait_days": 1,
             "deadline": {"days": 14, "calendar": True, "from": "notice",
                          "basis": "tvangsfullbyrdelsesloven § 13-6"}},
            {"id": "follow_up", "kind": "task", "wait_days": 1},
            {"id": "end", "kind": "end"},
        ],
        chain("start", "notice", "relay", "answer", "follow_up", "end"),
        process="deadline_process",
    )  # fmt: skip


@pytest.fixture
def case_id(sqlite_engine: Engine, key: ReferenceKey, library: Library) -> str:
    for name, org in (("ann", "housing_office"), ("bo", "nav")):
        accounts.add_account(sqlite_engine, username=name, password=PASSWORD, orgs=[org],
                             roles=[Role.CASEWORKER], now=MONDAY)  # fmt: skip
    state = store.start_case(sqlite_engine, version=deadline_version(), ref="case-ref",
                             now=MONDAY, key=key, actor="ann", org="housing_office",
                             lanes=library.lanes)  # fmt: skip
    return state.case_id


@pytest.fixture
def due_client(
    sqlite_engine: Engine, case_id: str, library: Library, key: ReferenceKey, clock: Clock
) -> Iterator[TestClient]:
    calendar = dataclasses.replace(DEFAULT_CALENDAR, holidays=DEFAULT_CALENDAR.holidays | {CLOSED})
    config = WebConfig(secret=b"s" * 32, calendar=calendar)
    app = create_app(sqlite_engine, library, config, key=key, clock=clock)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def test_the_inbox_shows_the_deadline_day_and_its_legal_basis(due_client, clock) -> None:
    clock.now = dt.datetime(2025, 1, 10, 12)  # Friday
    log_in(due_client, "ann")
    html = due_client.get("/inbox").text
    # Monday + 3 working days, the closed Wednesday skipped: Friday 10 January
    assert (
        '<time datetime="2025-01-10" title="Hjemmel: husleieloven § 4-18">2025-01-10</time>' in html
    )
    assert "Hjemmel: husleieloven § 4-18" in html
    assert 'class="late"' not in html


def test_past_its_deadline_day_the_row_is_overdue(due_client, clock) -> None:
    clock.now = dt.datetime(2025, 1, 11, 0, 1)  # just after Friday ended
    log_in(due_client, "ann")
    html = due_client.get("/inbox").text
    assert 'class="late"' in html and "⚠ </span>forfalt" in html
    assert due_client.get("/inbox?overdue=1").text.count('class="late"') == 1


def test_the_case_page_lists_when_the_open_steps_are_due(
    due_client, clock, sqlite_engine, case_id, library
) -> None:
    for step, day in (("notice", 7), ("relay", 9)):
        store.complete_step(sqlite_engine, case_id=case_id, step=step, actor="ann",
                            org="housing_office", now=dt.datetime(2025, 1, day, 10),
                            lanes=library.lanes)  # fmt: skip
    clock.now = dt.datetime(2025, 1, 20, 9)
    log_in(due_client, "bo")
    html = due_client.get(f"/cases/{case_id}").text
    assert "Frister for åpne steg" in html
    # 14 calendar days after the notice on Tuesday 7 January (not after the relay on the 9th)
    assert '<time datetime="2025-01-21"' in html
    assert "Hjemmel: tvangsfullbyrdelsesloven § 13-6" in html
    assert "forfalt" not in html.split("Frister for åpne steg", 1)[1]
    assert '<time datetime="2025-01-21"' in due_client.get("/inbox").text  # the same in the inbox
    clock.now = dt.datetime(2025, 1, 22, 9)
    log_in(due_client, "bo")  # the session idled out
    later = due_client.get(f"/cases/{case_id}").text
    assert "forfalt" in later.split("Frister for åpne steg", 1)[1]


def test_a_step_without_a_deadline_keeps_the_wait_rule(
    due_client, clock, sqlite_engine, case_id, library
) -> None:
    for step, org in (("notice", "housing_office"), ("relay", "housing_office"), ("answer", "nav")):
        store.complete_step(sqlite_engine, case_id=case_id, step=step, actor="ann" if
                            org == "housing_office" else "bo", org=org,
                            now=dt.datetime(2025, 1, 9, 10), lanes=library.lanes)  # fmt: skip
    clock.now = dt.datetime(2025, 1, 9, 11)
    log_in(due_client, "ann")
    html = due_client.get("/inbox").text
    # one working day of 7.5 h from Thursday 10:00: Friday 10:00, shown with its time
    assert '<time datetime="2025-01-10T10:00:00Z">2025-01-10 10:00</time>' in html
    assert "Hjemmel" not in html


def test_the_step_panel_of_a_process_shows_the_deadline(due_client, sqlite_engine) -> None:
    accounts.add_account(sqlite_engine, username="fay", password=PASSWORD,
                         orgs=["housing_office"], roles=[Role.FACILITATOR],
                         now=MONDAY)  # fmt: skip
    log_in(due_client, "fay")
    page = "/processes/eviction_prevention/versions/1/steps/nav_register_copy"
    text = due_client.get(page, headers={"HX-Request": "true"}).text
    deadline = text.split("<dt>Frist</dt><dd>", 1)[1].split("</dd>", 1)[0]
    assert deadline.startswith("14 kalenderdager fra serve_petition (Tvangsfullbyrdelsesloven")
    other = "/processes/eviction_prevention/versions/1/steps/file_petition"
    assert "<dt>Frist</dt>" not in due_client.get(other, headers={"HX-Request": "true"}).text


def test_the_api_inbox_gives_the_deadline_and_its_basis(due_client, clock, sqlite_engine) -> None:
    token = accounts.new_token(sqlite_engine, "ann", now=MONDAY)
    clock.now = dt.datetime(2025, 1, 10, 12)
    items = due_client.get("/api/v1/inbox", headers={"Authorization": f"Bearer {token}"}).json()[
        "items"
    ]
    assert [(i["step"], i["due"], i["basis"], i["overdue"]) for i in items] == [
        ("notice", "2025-01-10T23:59:59.999999Z", "husleieloven § 4-18", False)
    ]
