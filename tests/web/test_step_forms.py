"""The case page's step forms: begin and complete a step as the logged-in account."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.vocabulary import Role
from boflyt.models.words import word
from boflyt.web.refusals import refusal
from tests.factories import branching_version
from tests.web.conftest import MONDAY, PASSWORD, csrf_of, log_in


def _post(client, case_id: str, step: str, action: str, **fields: str):
    data = {"csrf": csrf_of(client, f"/cases/{case_id}"), **fields}
    return client.post(f"/cases/{case_id}/steps/{step}/{action}", data=data,
                       follow_redirects=False)  # fmt: skip


def test_begin_and_complete_a_step_shows_it_and_the_handoff_in_the_timeline(client, web_store):
    case_a = web_store[1].a
    log_in(client, "ann")
    assert "Begynn på steget" in client.get(f"/cases/{case_a}").text
    begun = _post(client, case_a, "a", "begin")
    assert begun.status_code == 303 and begun.headers["location"] == f"/cases/{case_a}"
    assert "Begynn på steget" not in client.get(f"/cases/{case_a}").text
    done = _post(client, case_a, "a", "complete", minutes="25")
    assert done.status_code == 303
    html = client.get(f"/cases/{case_a}").text
    assert "fullført" in html.lower() and "Boligkontoret → NAV-kontoret" in html
    assert "ann · Boligkontoret" in html


def test_a_decision_is_completed_with_an_outcome_from_the_definition(
    client, web_store, library, tmp_path: Path
):
    engine = web_store[0]
    key = ReferenceKey.load_or_create(tmp_path / "keys" / "reference.key")
    ann = {"actor": "ann", "org": "housing_office", "lanes": library.lanes}
    case = store.start_case(engine, version=branching_version(), ref="x1", key=key, now=MONDAY,
                            **ann)  # fmt: skip
    store.complete_step(engine, case_id=case.case_id, step="intake", now=MONDAY, **ann)
    log_in(client, "ann")
    assert _post(client, case.case_id, "assess", "begin").status_code == 303
    html = client.get(f"/cases/{case.case_id}").text
    assert '<option value="reject">' in html and '<option value="approve">' in html
    done = _post(client, case.case_id, "assess", "complete", outcome="reject", minutes="5")
    assert done.status_code == 303
    items = store.get_case(engine, case.case_id).items
    assert [i.outcome for i in items if i.step == "assess"] == ["reject"]


def test_a_second_completion_says_who_completed_the_step(client, web_store):
    case_a = web_store[1].a
    log_in(client, "ann")
    csrf = csrf_of(client, f"/cases/{case_a}")
    first = client.post(f"/cases/{case_a}/steps/a/complete", data={"csrf": csrf, "minutes": "3"},
                        follow_redirects=False)  # fmt: skip
    second = client.post(f"/cases/{case_a}/steps/a/complete", data={"csrf": csrf, "minutes": "3"},
                         follow_redirects=False)  # fmt: skip
    assert first.status_code == 303
    assert second.status_code == 409 and "allerede fullført av ann" in second.text
    client.cookies.set("boflyt_lang", "en")
    third = _post(client, case_a, "a", "complete", minutes="3")
    assert third.status_code == 409 and "already completed by ann" in third.text


def test_a_step_of_another_organisation_is_refused(client, web_store):
    case_b = web_store[1].b  # waits on NAV's step b; the housing office had work in it
    log_in(client, "ann")
    assert "Begynn på steget" not in client.get(f"/cases/{case_b}").text
    refused = _post(client, case_b, "b", "complete", minutes="1")
    assert refused.status_code == 403
    assert all(i.status.value != "done" for i in store.get_case(web_store[0], case_b).items
               if i.step == "b")  # fmt: skip


def test_a_form_without_the_csrf_token_is_refused(client, web_store):
    case_a = web_store[1].a
    log_in(client, "ann")
    response = client.post(f"/cases/{case_a}/steps/a/begin", data={}, follow_redirects=False)
    assert response.status_code == 403


def test_bad_minutes_show_the_store_bounds_next_to_the_field(client, web_store):
    case_a = web_store[1].a
    log_in(client, "ann")
    for bad in ("-1", "abc", "20000"):
        response = _post(client, case_a, "a", "complete", minutes=bad)
        assert response.status_code == 422
        assert "Minutter må være et tall fra 0 til 10,000." in response.text
        assert 'aria-describedby="minutes-error-a"' in response.text


def test_a_note_is_kept_and_shown_in_the_timeline_but_implicit_begins_are_not(client, web_store):
    case_a = web_store[1].a
    log_in(client, "ann")
    html = client.get(f"/cases/{case_a}").text
    assert '<label for="note-a">Notat (valgfritt)</label>' in html and 'maxlength="500"' in html
    done = _post(client, case_a, "a", "complete", minutes="5", note="Ringte leietaker <i>x</i>")
    assert done.status_code == 303
    html = client.get(f"/cases/{case_a}").text
    assert "Ringte leietaker &lt;i&gt;x&lt;/i&gt;" in html
    assert "implicit" not in html
    completed = [e for e in store.case_timeline(web_store[0], case_a) if e.step == "a"]
    assert completed[-1].detail == "Ringte leietaker <i>x</i>"


def test_a_bad_note_is_refused_at_the_field_and_kept_for_correction(client, web_store):
    case_a = web_store[1].a
    log_in(client, "ann")
    long = _post(client, case_a, "a", "complete", note="x" * 501)
    assert long.status_code == 422
    error = long.text.split('id="note-error-a">', 1)[1].split("</p>", 1)[0]
    assert error == "Notatet er for langt: høyst 500 tegn."
    assert 'aria-invalid="true"' in long.text.split('id="note-a"', 1)[1].split(">", 1)[0]
    two_lines = _post(client, case_a, "a", "complete", note="first\r\nsecond")
    assert two_lines.status_code == 422 and "må stå på én linje" in two_lines.text
    assert "first\r\nsecond" in two_lines.text  # the typed note is kept in the field
    assert _post(client, case_a, "a", "complete", note="   ").status_code == 303  # blank: none
    assert [e.detail for e in store.case_timeline(web_store[0], case_a) if e.step == "a"
            and e.kind.value == "step_completed"] == [None]  # fmt: skip


def test_store_refusals_read_in_the_page_language(client, web_store, clock, library, tmp_path):
    engine, cases = web_store
    accounts.add_account(engine, username="di", password=PASSWORD, orgs=["nav", "housing_office"],
                         roles=[Role.CASEWORKER], now=MONDAY)  # fmt: skip
    log_in(client, "di")
    not_ready = _post(client, cases.a, "b", "complete")  # a comes first
    assert not_ready.status_code == 409
    assert "Steget er ikke klart ennå" in not_ready.text
    assert _post(client, cases.a, "a", "begin").status_code == 303
    twice = _post(client, cases.a, "a", "begin")
    assert twice.status_code == 409 and "Steget er allerede påbegynt av di." in twice.text
    later = clock.now + dt.timedelta(minutes=2)  # bo's begin, a little ahead of the app's clock
    store.begin_step(engine, case_id=cases.b, step="b", actor="bo", org="nav", now=later,
                     clock=lambda: later)  # fmt: skip
    late = _post(client, cases.b, "b", "complete")
    assert late.status_code == 409 and "Saken har en hendelse senere enn nå" in late.text
    client.cookies.set("boflyt_lang", "en")
    again = _post(client, cases.a, "a", "begin")
    assert again.status_code == 409 and "The step was already begun by di." in again.text


def test_a_wrong_outcome_is_refused_at_the_outcome_field(client, web_store, library, key):
    engine = web_store[0]
    ann = {"actor": "ann", "org": "housing_office", "lanes": library.lanes}
    case = store.start_case(engine, version=branching_version(), ref="x2", key=key, now=MONDAY,
                            **ann)  # fmt: skip
    store.complete_step(engine, case_id=case.case_id, step="intake", now=MONDAY, **ann)
    log_in(client, "ann")
    response = _post(client, case.case_id, "assess", "complete", outcome="maybe")
    assert response.status_code == 422
    error = response.text.split('id="outcome-error-assess">', 1)[1].split("</p>", 1)[0]
    assert error.startswith("Utfallet må være ett av: ") and "approve" in error


def test_an_unknown_refusal_keeps_the_store_s_words_under_a_translated_heading():
    shown = refusal("case abc: something the pages do not know", "nb")
    assert (shown.known, shown.status, shown.field) == (False, 409, None)
    assert shown.message == "case abc: something the pages do not know"
    assert word("web.refused_heading", "nb").startswith("Boflyt avviste handlingen")


def test_a_completion_from_the_page_is_audited_with_the_client_s_address(client, web_store):
    from boflyt.engine.store import audit

    case_a = web_store[1].a
    log_in(client, "ann")
    assert _post(client, case_a, "a", "complete", minutes="2", note="ok").status_code == 303
    done = [r for r in audit.case_log(web_store[0], case_a) if r.action.value == "step_completed"]
    assert [(r.actor, r.org, r.address) for r in done] == [("ann", "housing_office", "testclient")]
    assert all(r.detail != "ok" for r in audit.case_log(web_store[0], case_a))  # never the note
