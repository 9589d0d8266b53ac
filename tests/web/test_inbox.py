"""The inbox page: each caseworker sees only their organisations' work, never a reference."""

from __future__ import annotations

import datetime as dt

from boflyt.engine.store import accounts
from boflyt.models.vocabulary import Role
from boflyt.models.words import DEFAULT_LANGUAGE, format_duration
from tests.web.conftest import MONDAY, PASSWORD, REF_A, REF_B, log_in


def test_the_housing_office_sees_its_step_and_not_navs(client, web_store):
    cases = web_store[1]
    log_in(client, "ann")
    html = client.get("/inbox").text
    assert cases.a[:8] in html and cases.b[:8] not in html
    assert "test_process@v1" in html and "Boligkontoret" in html
    assert "Steg som venter: 1" in html
    assert REF_A not in html and REF_B not in html


def test_nav_sees_its_step_and_its_waiting_time(client, web_store):
    cases = web_store[1]
    log_in(client, "bo")
    html = client.get("/inbox").text
    assert cases.b[:8] in html and cases.a[:8] not in html
    assert "1 d 23 t" in html  # ready Monday 10:00, now Wednesday 09:00


def test_an_account_of_two_organisations_sees_both_oldest_first(client, web_store):
    engine, cases = web_store
    accounts.add_account(engine, username="di", password=PASSWORD, orgs=["nav", "housing_office"],
                         roles=[Role.CASEWORKER], now=MONDAY)  # fmt: skip
    log_in(client, "di")
    html = client.get("/inbox").text
    assert "Steg som venter: 2" in html
    assert html.index(cases.b[:8]) < html.index(cases.a[:8])


def test_the_inbox_speaks_english_after_the_switch(client):
    log_in(client, "ann")
    client.get("/language/en?next=/inbox")
    html = client.get("/inbox").text
    assert "Inbox" in html and "Steps waiting: 1" in html and "Housing office" in html


def test_an_empty_inbox_says_so(client, web_store):
    accounts.add_account(web_store[0], username="ed", password=PASSWORD, orgs=["accounting"],
                         roles=[Role.CASEWORKER], now=MONDAY)  # fmt: skip
    log_in(client, "ed")
    assert "Ingen steg venter" in client.get("/inbox").text


def test_waiting_time_reads_in_days_hours_and_minutes():
    assert format_duration(dt.timedelta(minutes=5), DEFAULT_LANGUAGE) == "5 min"
    assert format_duration(dt.timedelta(days=1, hours=2), DEFAULT_LANGUAGE) == "1 d 2 t"
