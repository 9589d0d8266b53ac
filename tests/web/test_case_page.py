"""The case page: the timeline with its handoff, only for organisations with work in the case."""

from __future__ import annotations

from boflyt.engine.store import accounts
from boflyt.models.vocabulary import Role
from tests.web.conftest import MONDAY, PASSWORD, REF_B, log_in


def test_nav_reads_the_timeline_with_the_handoff_from_the_housing_office(client, web_store):
    case_b = web_store[1].b
    log_in(client, "bo")
    html = client.get(f"/cases/{case_b}").text
    assert f"Sak {case_b[:8]}" in html
    assert "overlevering" in html and "Boligkontoret → NAV-kontoret" in html
    assert REF_B not in html


def test_the_inbox_links_each_step_to_its_case(client, web_store):
    log_in(client, "ann")
    assert f'href="/cases/{web_store[1].a}"' in client.get("/inbox").text


def test_a_case_without_work_for_the_account_is_not_found_like_an_unknown_one(client, web_store):
    cases = web_store[1]
    log_in(client, "bo")  # NAV: case A has not reached NAV
    refused = client.get(f"/cases/{cases.a}")
    unknown = client.get("/cases/00000000-0000-0000-0000-000000000000")
    assert refused.status_code == unknown.status_code == 404
    assert "Fant ingen slik sak" in refused.text and "Fant ingen slik sak" in unknown.text


def test_an_organisation_that_had_work_in_a_case_still_sees_it(client, web_store):
    log_in(client, "ann")  # the housing office handed case B on to NAV
    assert client.get(f"/cases/{web_store[1].b}").status_code == 200


def test_an_organisation_never_involved_sees_no_case(client, web_store):
    engine, cases = web_store
    accounts.add_account(engine, username="ed", password=PASSWORD, orgs=["accounting"],
                         roles=[Role.CASEWORKER], now=MONDAY)  # fmt: skip
    log_in(client, "ed")
    assert [client.get(f"/cases/{c}").status_code for c in (cases.a, cases.b)] == [404, 404]


def test_the_case_page_needs_a_login(client, web_store):
    response = client.get(f"/cases/{web_store[1].b}", follow_redirects=False)
    assert response.headers["location"] == "/login"
