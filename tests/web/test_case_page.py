"""The case page: the timeline with its handoff, only for organisations with work in the case."""

from __future__ import annotations

import datetime as dt

from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
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


def test_an_organisation_that_may_record_an_outside_party_s_step_sees_the_case_and_its_form(
    client, web_store, library, key
):
    engine = web_store[0]
    state = store.start_case(engine, version=library.get("private_lease", 2), ref="r-9", key=key,
                             actor="ann", org="housing_office", now=MONDAY,
                             lanes=library.lanes)  # fmt: skip
    log_in(client, "bo")  # NAV: the tenant's application waits on whoever records it
    assert state.case_id[:8] in client.get("/inbox").text
    html = client.get(f"/cases/{state.case_id}").text
    assert f'action="/cases/{state.case_id}/steps/apply_digital/complete"' in html


def test_notes_show_in_the_timeline_only_for_completions(client, web_store, library, key):
    engine, cases = web_store
    store.complete_step(engine, case_id=cases.b, step="b", actor="bo", org="nav",
                        now=MONDAY + dt.timedelta(days=1), note="Vedtak sendt",
                        lanes=library.lanes)  # fmt: skip
    log_in(client, "bo")
    html = client.get(f"/cases/{cases.b}").text
    assert '<th scope="col">Notat</th>' in html
    assert '<td data-label="Notat">Vedtak sendt</td>' in html
    assert "implicit" not in html and "test_process@v1 " not in html.split("<tbody>", 1)[1]


def test_every_case_page_view_is_in_the_case_s_audit_log(client, web_store):
    from boflyt.engine.store import audit

    engine, cases = web_store
    log_in(client, "bo")
    client.get(f"/cases/{cases.b}")
    client.get(f"/cases/{cases.a}")  # not NAV's: 404, no read
    reads = [r for r in audit.case_log(engine, cases.b) if r.action.value == "case_read"]
    assert [(r.actor, r.org, r.detail, r.address) for r in reads] == [
        ("bo", "nav", "web", "testclient")
    ]
    assert not [r for r in audit.case_log(engine, cases.a) if r.action.value == "case_read"]
