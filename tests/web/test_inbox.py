"""The inbox page: each caseworker sees only their organisations' work, never a reference."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.models.vocabulary import Role
from boflyt.models.words import DEFAULT_LANGUAGE, format_duration
from tests.factories import linear_version
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


def test_the_language_switch_keeps_the_filter_of_the_page(client):
    log_in(client, "ann")
    html = client.get("/inbox?status=ready&overdue=1").text
    link = re.search(r'href="(/language/en\?next=[^"]+)"', html).group(1).replace("&amp;", "&")
    assert link == "/language/en?next=/inbox%3Fstatus%3Dready%26overdue%3D1"
    switched = client.get(link, follow_redirects=False)
    assert switched.headers["location"] == "/inbox?status=ready&overdue=1"


def test_an_empty_inbox_says_so(client, web_store):
    accounts.add_account(web_store[0], username="ed", password=PASSWORD, orgs=["accounting"],
                         roles=[Role.CASEWORKER], now=MONDAY)  # fmt: skip
    log_in(client, "ed")
    assert "Ingen steg venter" in client.get("/inbox").text


def test_waiting_time_reads_in_days_hours_and_minutes():
    assert format_duration(dt.timedelta(minutes=5), DEFAULT_LANGUAGE) == "5 min"
    assert format_duration(dt.timedelta(days=1, hours=2), DEFAULT_LANGUAGE) == "1 d 2 t"


@pytest.fixture
def di(web_store) -> str:
    """A caseworker of NAV and the housing office: sees case B's step b and case A's step a."""
    accounts.add_account(web_store[0], username="di", password=PASSWORD,
                         orgs=["nav", "housing_office"], roles=[Role.CASEWORKER],
                         now=MONDAY)  # fmt: skip
    return "di"


def _cases_in(html: str, cases) -> list[str]:
    return [name for name, case_id in (("a", cases.a), ("b", cases.b)) if case_id[:8] in html]


def test_filters_narrow_the_inbox_without_javascript(client, web_store, di):
    cases = web_store[1]
    log_in(client, di)
    html = client.get("/inbox").text
    assert '<form method="get" action="/inbox" class="filters"' in html
    assert '<label for="f-org">Organisasjon</label>' in html
    assert _cases_in(client.get("/inbox?org=nav").text, cases) == ["b"]
    assert _cases_in(client.get("/inbox?org=housing_office").text, cases) == ["a"]
    assert _cases_in(client.get("/inbox?org=accounting").text, cases) == ["a", "b"]  # not theirs
    assert _cases_in(client.get("/inbox?process=test_process").text, cases) == ["a", "b"]
    none = client.get("/inbox?process=other").text
    assert _cases_in(none, cases) == [] and "Ingen av de 2 stegene passer filteret" in none
    assert _cases_in(client.get("/inbox?status=started").text, cases) == []
    filtered = client.get("/inbox?overdue=1").text
    assert _cases_in(filtered, cases) == ["a"] and "Steg som venter: 1 (av 2)" in filtered
    assert '<input id="f-overdue" name="overdue" type="checkbox" value="1" checked>' in filtered


def test_overdue_work_is_marked_with_words_and_the_due_date(client, web_store, di):
    log_in(client, di)
    html = client.get("/inbox").text
    row_a = html.split(web_store[1].a[:8], 1)[1].split("</tr>", 1)[0]
    row_b = html.split(web_store[1].b[:8], 1)[1].split("</tr>", 1)[0]
    # a: ready Monday 11:00, one working day allowed; now Wednesday 09:00
    assert 'class="due"' in row_a and "forfalt</strong> siden" in row_a
    assert '<time datetime="2025-01-07T11:00:00Z">2025-01-07 11:00</time>' in row_a
    # b: ready Monday 10:00, two working days allowed: due Wednesday 10:00
    assert "forfalt" not in row_b and "innen <time" in row_b and "2025-01-08 10:00" in row_b


def test_an_escalated_step_is_overdue_and_a_begun_one_has_no_due_date(client, web_store, clock):
    engine, cases = web_store
    store.escalate_overdue(engine, now=clock.now, clock=clock)
    store.begin_step(engine, case_id=cases.b, step="b", actor="bo", org="nav", now=clock.now,
                     clock=clock)  # fmt: skip
    log_in(client, "bo")
    html = client.get("/inbox").text.split("<tbody>", 1)[1]
    assert "påbegynt" in html and "forfalt" not in html and "<time" not in html
    assert _cases_in(client.get("/inbox?status=started").text, cases) == ["b"]
    log_in(client, "ann")
    assert "forfalt" in client.get("/inbox?overdue=1&status=ready").text


def test_htmx_gets_only_the_table_and_a_history_restore_the_whole_page(client, web_store, di):
    log_in(client, di)
    partial = client.get("/inbox?org=nav", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and partial.headers["vary"] == "HX-Request"
    assert "<html" not in partial.text and "<table" in partial.text
    assert web_store[1].b[:8] in partial.text and web_store[1].a[:8] not in partial.text
    restore = client.get(
        "/inbox?org=nav", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.text
    full = client.get("/inbox").text
    assert 'hx-get="/inbox" hx-target="#inbox-results" hx-push-url="true"' in full
    assert '<div id="inbox-results"' in full


def test_htmx_is_shipped_and_loaded_without_inline_script(client):
    log_in(client, "ann")
    html = client.get("/inbox").text
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script src="/static/htmx.min.js" defer>']
    assert "htmx-config" in html and '"allowEval": false' in html
    shipped = client.get("/static/htmx.min.js")
    assert shipped.status_code == 200 and "htmx" in shipped.text[:2000]


def test_a_long_inbox_comes_in_pages_of_fifty_keeping_the_filter(client, web_store, key, library):
    """120 more cases waiting on the housing office: pages of 50, oldest first, the links keep
    the filter, a page past the last shows the last, and a bad page number the first."""
    engine = web_store[0]
    for n in range(120):
        store.start_case(engine, version=linear_version(), ref=f"PAGE-{n}", key=key, actor="ann",
                         org="housing_office", now=MONDAY + dt.timedelta(hours=3, minutes=n),
                         lanes=library.lanes)  # fmt: skip
    log_in(client, "ann")
    first = client.get("/inbox?process=test_process").text
    assert "Steg som venter: 121 · Viser 1–50" in first and "Side 1 av 3" in first
    assert first.count("<tr class=") + first.count("<tr>") - 1 == 50  # rows, not the header
    assert 'href="/inbox?process=test_process&amp;page=2" ' in first and 'rel="prev"' not in first
    last = client.get("/inbox?process=test_process&page=3").text
    assert "Viser 101–121" in last and "Side 3 av 3" in last and 'rel="next"' not in last
    assert web_store[1].a[:8] in first and web_store[1].a[:8] not in last  # oldest first
    assert "Side 3 av 3" in client.get("/inbox?page=99").text
    assert "Side 1 av 3" in client.get("/inbox?page=-1").text
    assert "Side 1 av 3" in client.get("/inbox?page=" + "9" * 50).text
