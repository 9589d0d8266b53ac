"""The case page's step forms: begin and complete a step as the logged-in account."""

from __future__ import annotations

from pathlib import Path

from boflyt.engine.store import commands as store
from boflyt.engine.store.pseudonym import ReferenceKey
from tests.factories import branching_version
from tests.web.conftest import MONDAY, csrf_of, log_in


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
