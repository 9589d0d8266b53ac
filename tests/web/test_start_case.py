"""The start-a-case page: choose a process, type the reference (never echoed), land on the case."""

from __future__ import annotations

import logging

from boflyt.engine.store import commands as store
from tests.web.conftest import REF_A, csrf_of, log_in

REF = "24127012345"  # looks like a fødselsnummer


def _start(client, **fields: str):
    data = {"csrf": csrf_of(client, "/cases/new"), **fields}
    return client.post("/cases/new", data=data, follow_redirects=False)


def test_the_inbox_links_to_the_start_form_which_hides_the_reference(client):
    log_in(client, "ann")
    assert 'href="/cases/new"' in client.get("/inbox").text
    html = client.get("/cases/new").text
    assert '<label for="reference">Saksreferanse</label>' in html
    field = html.split('id="reference"', 1)[1].split(">", 1)[0]
    assert 'type="password"' in field and 'autocomplete="off"' in field and "value=" not in field
    assert 'method="post" action="/cases/new"' in html
    assert '<option value="private_lease"' in html and "eviction_prevention" not in html


def test_a_started_case_opens_its_page_with_only_the_case_id(client, web_store, key, caplog):
    caplog.set_level(logging.DEBUG)
    log_in(client, "ann")
    response = _start(client, process="private_lease", reference=REF)
    assert response.status_code == 303
    location = response.headers["location"]
    assert REF not in location
    case_id = location.removeprefix("/cases/")
    state = store.get_case(web_store[0], case_id)
    assert (state.process, state.version) == ("private_lease", 2)  # the newest published
    page = client.get(location)
    assert page.status_code == 200 and f"Sak {case_id[:8]}" in page.text
    assert REF not in page.text and REF not in caplog.text
    assert [c.id for c in store.find_case_by_ref(web_store[0], ref=REF, key=key)] == [case_id]


def test_a_chosen_version_is_started(client, web_store):
    log_in(client, "ann")
    response = _start(client, process="private_lease", version="1", reference=REF)
    case_id = response.headers["location"].removeprefix("/cases/")
    assert store.get_case(web_store[0], case_id).version == 1


def test_refusals_show_at_their_field_and_never_echo_the_reference(client):
    log_in(client, "ann")
    assert _start(client, process="private_lease", reference=REF).status_code == 303
    cases = [
        ({"process": "private_lease", "reference": REF}, 409, "reference-error",
         "allerede denne referansen"),
        ({"process": "private_lease", "version": "9", "reference": REF}, 422, "version-error",
         "ingen slik versjon"),
        ({"process": "private_lease", "version": "v2", "reference": REF}, 422, "version-error",
         "helt tall"),
        ({"process": "nope", "reference": REF}, 422, "process-error", "Fant ingen publisert"),
        ({"process": "eviction_prevention", "reference": REF}, 403, "process-error",
         "kan starte saker i denne prosessen"),
        ({"process": "private_lease", "reference": "  "}, 422, "reference-error",
         "kan ikke være tom"),
    ]  # fmt: skip
    for fields, status, where, words in cases:
        response = _start(client, **fields)
        assert response.status_code == status, fields
        error = response.text.split(f'id="{where}">', 1)[1].split("</p>", 1)[0]
        assert words in error, (fields, error)
        assert REF not in response.text


def test_a_nav_caseworker_may_start_a_process_the_housing_office_may_not(client, web_store):
    log_in(client, "bo")
    assert '<option value="eviction_prevention"' in client.get("/cases/new").text
    response = _start(client, process="eviction_prevention", reference=REF_A)
    assert response.status_code == 303
    case_id = response.headers["location"].removeprefix("/cases/")
    assert store.case_timeline(web_store[0], case_id)[0].actor == "bo"


def test_the_start_form_needs_a_login_and_its_csrf_token(client):
    assert client.get("/cases/new", follow_redirects=False).headers["location"] == "/login"
    log_in(client, "ann")
    refused = client.post("/cases/new", data={"process": "private_lease", "reference": REF})
    assert refused.status_code == 403 and REF not in refused.text


def test_a_start_from_the_page_is_audited_with_the_client_s_address(client, web_store):
    from boflyt.engine.store import audit

    log_in(client, "ann")
    case_id = _start(client, process="private_lease", reference=REF).headers["location"][7:]
    started = [r for r in audit.case_log(web_store[0], case_id) if r.action.value == "case_started"]
    assert [(r.actor, r.address) for r in started] == [("ann", "testclient")]
    assert all(REF not in (r.detail or "") for r in audit.case_log(web_store[0], case_id))
