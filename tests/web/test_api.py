"""The REST API under /api/v1: bearer tokens, the pages' rules, its status codes and OpenAPI.

Over the web fixtures: ann (housing office), bo (NAV), case A waiting on the housing office's
step ``a``, case B waiting on NAV's ``b`` (the housing office did ``a`` in it).
"""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher

from boflyt.engine.store import accounts, audit
from boflyt.engine.store import commands as store
from boflyt.models.vocabulary import AuditAction, EventKind, Role
from tests.factories import branching_version
from tests.web.conftest import MONDAY, PASSWORD, REF_A, log_in

FNR = "24056912345"  # a fødselsnummer-like reference: must never come back


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch):
    """Passwords hashed with the cheapest argon2 parameters: these tests are about the API."""
    monkeypatch.setattr(
        accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def tokens(web_store):
    """API tokens of ann, bo, a process owner without the caseworker role, and dua (both orgs)."""
    engine = web_store[0]
    accounts.add_account(engine, username="ola", password=PASSWORD, orgs=["nav"],
                         roles=[Role.PROCESS_OWNER], now=MONDAY)  # fmt: skip
    accounts.add_account(engine, username="dua", password=PASSWORD, orgs=["housing_office", "nav"],
                         roles=[Role.CASEWORKER], now=MONDAY)  # fmt: skip
    return {name: accounts.new_token(engine, name, now=MONDAY)
            for name in ("ann", "bo", "ola", "dua")}  # fmt: skip


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def complete(client, token, case_id, step, **body):
    return client.post(f"/api/v1/cases/{case_id}/steps/{step}/complete", json=body,
                       headers=auth(token))  # fmt: skip


# --------------------------------------------------------------------------- authentication


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/api/v1/inbox"), ("POST", "/api/v1/cases"), ("GET", "/api/v1/cases/x"),
     ("POST", "/api/v1/cases/x/steps/a/begin"), ("POST", "/api/v1/cases/x/steps/a/complete")],
)  # fmt: skip
def test_every_route_needs_a_valid_token(client, tokens, method, path):
    for headers in ({}, auth("boflyt_not-a-token"), {"Authorization": f"Basic {tokens['ann']}"}):
        response = client.request(method, path, headers=headers, json={})
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert "token" in response.json()["detail"]
    refused = client.request(method, path, headers=auth(tokens["ola"]), json={})
    assert refused.status_code == 403 and "caseworker" in refused.json()["detail"]


def test_a_session_cookie_is_not_accepted_on_the_api(client, tokens):
    assert log_in(client, "ann").status_code == 303
    assert client.get("/inbox").status_code == 200  # the page, by the cookie
    assert client.get("/api/v1/inbox").status_code == 401


def test_a_disabled_account_s_token_is_refused(client, web_store, tokens):
    accounts.disable_account(web_store[0], "ann", now=MONDAY)
    assert client.get("/api/v1/inbox", headers=auth(tokens["ann"])).status_code == 401


# --------------------------------------------------------------------------- inbox


def test_the_inbox_lists_the_caller_s_organisations_open_work(client, web_store, tokens, clock):
    cases = web_store[1]
    ann = client.get("/api/v1/inbox", headers=auth(tokens["ann"])).json()["items"]
    assert [(i["case_id"], i["step"], i["orgs"]) for i in ann] == [
        (cases.a, "a", ["housing_office"])
    ]
    (item,) = ann
    assert (item["process"], item["version"], item["status"]) == ("test_process", 1, "ready")
    assert item["ready_since"] == "2025-01-06T11:00:00Z"
    assert item["waited_minutes"] == 2 * 24 * 60 - 120
    assert item["due"] == "2025-01-07T11:00:00Z"  # one working day
    assert item["overdue"] is True  # two days ready, the step allows one
    dua = client.get("/api/v1/inbox", headers=auth(tokens["dua"])).json()["items"]
    assert [(i["case_id"], i["step"]) for i in dua] == [(cases.b, "b"), (cases.a, "a")]
    assert dua[0]["overdue"] is False  # b allows two working days (Tue 10:00 → Wed 11:00)


# --------------------------------------------------------------------------- start a case


def test_start_a_case_returns_201_with_its_pseudonym_never_the_reference(
    client, web_store, tokens, key
):
    response = client.post("/api/v1/cases", headers=auth(tokens["ann"]),
                           json={"process": "private_lease", "reference": FNR})  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    assert FNR not in response.text
    assert body["reference_pseudonym"] == key.pseudonym(FNR)[:10]
    assert (body["process"], body["version"], body["status"]) == ("private_lease", 2, "running")
    assert body["open_steps"] and all(s["yours"] for s in body["open_steps"])
    found = store.find_case_by_ref(web_store[0], ref=FNR, key=key)
    assert [c.id for c in found] == [body["case_id"]]
    (entry,) = audit.case_log(web_store[0], body["case_id"])
    assert (entry.action, entry.actor, entry.address) == ("case_started", "ann", "testclient")
    again = client.post("/api/v1/cases", headers=auth(tokens["ann"]),
                        json={"process": "private_lease", "reference": FNR})  # fmt: skip
    assert again.status_code == 409 and body["case_id"] not in again.text
    assert "already has this reference" in again.json()["detail"]


def test_start_a_case_on_a_given_version(client, tokens):
    body = {"process": "eviction_prevention", "version": 1, "reference": "r1"}
    response = client.post("/api/v1/cases", headers=auth(tokens["bo"]), json=body)
    assert response.status_code == 201 and response.json()["version"] == 1


def test_an_organisation_that_may_not_start_the_process_gets_403(client, web_store, tokens):
    response = client.post("/api/v1/cases", headers=auth(tokens["ann"]),
                           json={"process": "eviction_prevention", "reference": FNR})  # fmt: skip
    assert response.status_code == 403
    assert "may not start a case on eviction_prevention@v2" in response.json()["detail"]
    assert len(store.list_cases(web_store[0])) == 2


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"process": "nope", "reference": FNR}, "process", "unknown process 'nope'"),
        ({"process": "private_lease", "version": 9, "reference": FNR}, "version", "no version 9"),
        ({"process": "private_lease", "version": 0, "reference": FNR}, "version", "greater than"),
        ({"process": "private_lease"}, "reference", "Field required"),
        ({"process": "private_lease", "reference": "  "}, "reference", "empty"),
        ({"process": "private_lease", "reference": FNR + "\x1b"}, "reference", "control character"),
        ({"process": "private_lease", "reference": FNR * 7}, "reference", "at most 64"),
        ({"process": "private_lease", "reference": FNR * 30}, "reference", "at most 256"),
        ({"process": "private_lease", "reference": 24056912345}, "reference", "valid string"),
        ({"process": "private_lease", "reference": FNR, "ref": FNR}, "ref", "Extra inputs"),
        ({"process": "a\x00b", "reference": FNR}, "process", "control character"),
    ],
)
def test_bad_start_input_is_422_naming_the_field_and_never_repeating_it(
    client, tokens, body, field, message
):
    response = client.post("/api/v1/cases", headers=auth(tokens["ann"]), json=body)
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"][-1] == field and message in problem["msg"], problem
    assert FNR not in response.text and "24056912345" not in response.text


# --------------------------------------------------------------------------- read a case


def test_a_case_shows_its_state_timeline_and_handoffs(client, web_store, tokens):
    case_b = web_store[1].b
    response = client.get(f"/api/v1/cases/{case_b}", headers=auth(tokens["ann"]))
    assert response.status_code == 200
    body = response.json()
    assert (body["case_id"], body["status"], body["process"]) == (case_b, "running", "test_process")
    assert [(s["step"], s["yours"]) for s in body["open_steps"]] == [("b", False)]
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds[0] == EventKind.CASE_STARTED and EventKind.STEP_COMPLETED in kinds
    (handoff,) = [e["handoff"] for e in body["timeline"] if e["handoff"]]
    assert (handoff["from_org"], handoff["to_org"], handoff["to_step"]) == (
        "housing_office",
        "nav",
        "b",
    )
    assert handoff["waiting"] is True and handoff["wait_minutes"] == 2 * 24 * 60 - 60
    completed = next(
        e for e in body["timeline"] if e["kind"] == "step_completed" and e["step"] == "a"
    )
    assert (completed["actor"], completed["org"]) == ("ann", "housing_office")
    assert REF_A not in response.text


def test_a_case_none_of_the_caller_s_organisations_had_work_in_is_404_like_an_unknown_one(
    client, web_store, tokens
):
    case_a = web_store[1].a  # only the housing office has had work in it
    invisible = client.get(f"/api/v1/cases/{case_a}", headers=auth(tokens["bo"]))
    unknown = client.get("/api/v1/cases/00000000-0000-0000-0000-000000000000",
                         headers=auth(tokens["bo"]))  # fmt: skip
    assert invisible.status_code == unknown.status_code == 404
    assert invisible.json() == unknown.json()
    typed = client.get(f"/api/v1/cases/{FNR}", headers=auth(tokens["bo"]))
    assert typed.status_code == 404 and FNR not in typed.text and FNR[:8] not in typed.text


# --------------------------------------------------------------------------- begin, complete


def test_complete_moves_the_case_on_and_a_second_completion_says_by_whom(client, web_store, tokens):
    case_a = web_store[1].a
    done = complete(client, tokens["ann"], case_a, "a", minutes=25, note="called the landlord")
    assert done.status_code == 200, done.text
    assert [(s["step"], s["yours"]) for s in done.json()["open_steps"]] == [("b", False)]
    again = complete(client, tokens["ann"], case_a, "a", minutes=25)
    assert again.status_code == 409
    assert again.json()["detail"] == "step 'a' already completed by ann"
    events = store.case_timeline(web_store[0], case_a)
    (event,) = [e for e in events if e.kind is EventKind.STEP_COMPLETED and e.step == "a"]
    assert (event.actor, event.touch_minutes, event.detail) == ("ann", 25, "called the landlord")
    # NAV now has work in case A: bo sees it and completes b
    assert client.get(f"/api/v1/cases/{case_a}", headers=auth(tokens["bo"])).status_code == 200
    assert complete(client, tokens["bo"], case_a, "b").json()["open_steps"] == []


def test_begin_then_complete_and_a_second_begin_is_409(client, web_store, tokens):
    case_a = web_store[1].a
    url = f"/api/v1/cases/{case_a}/steps/a/begin"
    begun = client.post(url, headers=auth(tokens["ann"]))
    assert begun.status_code == 200 and begun.json()["open_steps"][0]["status"] == "started"
    second = client.post(url, headers=auth(tokens["ann"]))
    assert second.status_code == 409 and "already begun by ann" in second.json()["detail"]
    assert complete(client, tokens["ann"], case_a, "a").status_code == 200


def test_another_organisation_s_step_is_403_and_nothing_changes(client, web_store, tokens):
    case_b = web_store[1].b  # visible to ann (the housing office did a), b is NAV's
    refused = complete(client, tokens["ann"], case_b, "b", minutes=1)
    assert refused.status_code == 403 and "may act on step 'b'" in refused.json()["detail"]
    began = client.post(f"/api/v1/cases/{case_b}/steps/b/begin", headers=auth(tokens["ann"]))
    assert began.status_code == 403
    items = store.get_case(web_store[0], case_b).items
    assert [i.status.value for i in items if i.step == "b"] == ["ready"]


def test_a_nav_user_cannot_act_on_the_housing_office_s_step_of_a_case_it_sees(
    client, web_store, tokens
):
    case_b = web_store[1].b  # NAV has work in it (step b); step a was the housing office's
    assert client.get(f"/api/v1/cases/{case_b}", headers=auth(tokens["bo"])).status_code == 200
    refused = complete(client, tokens["bo"], case_b, "a")
    assert refused.status_code == 403 and "(nav) may act on step 'a'" in refused.json()["detail"]


def test_unknown_case_or_step_is_404_and_a_step_not_ready_is_409(client, web_store, tokens):
    cases = web_store[1]
    assert complete(client, tokens["bo"], cases.a, "a").status_code == 404  # invisible to NAV
    assert complete(client, tokens["ann"], "no-such-case", "a").status_code == 404
    unknown = complete(client, tokens["ann"], cases.a, "zzz")
    assert unknown.status_code == 404 and "has no step with that id" in unknown.json()["detail"]
    not_ready = complete(client, tokens["dua"], cases.a, "b")  # dua acts for NAV too
    assert not_ready.status_code == 409 and "not open" in not_ready.json()["detail"]


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"minutes": -1}, "minutes", "greater than or equal to 0"),
        ({"minutes": 10_001}, "minutes", "less than or equal to 10000"),
        ({"minutes": "many"}, "minutes", "valid number"),
        ({"outcome": "approve"}, "outcome", "not a decision"),
        ({"note": "two\nlines"}, "note", "control character"),
        ({"note": "x" * 501}, "note", "at most 500"),
        ({"touch": 3}, "touch", "Extra inputs"),
    ],
)
def test_bad_completion_input_is_422_naming_the_field(
    client, web_store, tokens, body, field, message
):
    response = complete(client, tokens["ann"], web_store[1].a, "a", **body)
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"][-1] == field and message in problem["msg"], problem
    assert "input" not in problem
    items = store.get_case(web_store[0], web_store[1].a).items
    assert [i.status.value for i in items if i.step == "a"] == ["ready"]


def test_a_decision_needs_one_of_its_outcomes(client, web_store, tokens, key, library):
    engine = web_store[0]
    ann = {"actor": "ann", "org": "housing_office", "lanes": library.lanes}
    case = store.start_case(engine, version=branching_version(), ref="x1", key=key, now=MONDAY,
                            **ann)  # fmt: skip
    store.complete_step(engine, case_id=case.case_id, step="intake", now=MONDAY, **ann)
    missing = complete(client, tokens["ann"], case.case_id, "assess")
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "outcome"]
    assert "approve" in missing.json()["detail"][0]["msg"]
    done = complete(client, tokens["ann"], case.case_id, "assess", outcome="reject")
    assert done.status_code == 200 and done.json()["status"] == "finished"


def test_complete_without_a_body(client, web_store, tokens):
    response = client.post(f"/api/v1/cases/{web_store[1].a}/steps/a/complete",
                           headers=auth(tokens["ann"]))  # fmt: skip
    assert response.status_code == 200


# --------------------------------------------------------------------------- OpenAPI


def test_the_openapi_description_holds_only_the_api_and_its_bearer_scheme(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"  # the app's headers apply
    schema = response.json()
    caseworkers = {
        "/inbox", "/cases", "/cases/{case_id}", "/cases/{case_id}/steps/{step}/begin",
        "/cases/{case_id}/steps/{step}/complete",
    }  # fmt: skip
    others = set(schema["paths"]) - caseworkers  # issue 13: processes, drafts, publishing
    assert caseworkers <= set(schema["paths"]) and all(p.startswith("/processes") for p in others)
    assert schema["servers"] == [{"url": "/api/v1"}]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path in schema["paths"].values():
        for operation in path.values():
            assert operation["security"] == [{"HTTPBearer": []}]
            assert "401" in operation["responses"]
    assert client.get("/openapi.json").status_code == 404  # the pages have none


def test_no_response_ever_holds_the_reference(client, web_store, tokens):
    """Start a case with a fødselsnummer-like reference, then walk every route."""
    bodies = []
    started = client.post("/api/v1/cases", headers=auth(tokens["ann"]),
                          json={"process": "private_lease", "reference": FNR})  # fmt: skip
    case_id = started.json()["case_id"]
    bodies.append(started.text)
    for token in tokens.values():
        bodies.append(client.get("/api/v1/inbox", headers=auth(token)).text)
        bodies.append(client.get(f"/api/v1/cases/{case_id}", headers=auth(token)).text)
    for step in [s["step"] for s in started.json()["open_steps"]]:
        bodies.append(complete(client, tokens["ann"], case_id, step, minutes=1).text)
        bodies.append(complete(client, tokens["ann"], case_id, step, minutes=1).text)
    bodies.append(client.get(f"/api/v1/cases/{case_id}", headers=auth(tokens["ann"])).text)
    again = {"process": "private_lease", "reference": FNR}
    bodies.append(client.post("/api/v1/cases", headers=auth(tokens["ann"]), json=again).text)
    assert len(bodies) == 3 + 2 * len(tokens) + 2 * len(started.json()["open_steps"])
    assert not [b for b in bodies if FNR in b or FNR in json.dumps(json.loads(b))]


# --------------------------------------------------------------------------- audit


def test_reads_and_changes_through_the_api_are_in_the_case_s_audit_log(client, web_store, tokens):
    engine, case_a = web_store[0], web_store[1].a
    before = len(audit.case_log(engine, case_a))
    assert client.get(f"/api/v1/cases/{case_a}", headers=auth(tokens["bo"])).status_code == 404
    assert client.get(f"/api/v1/cases/{case_a}", headers=auth(tokens["ann"])).status_code == 200
    assert complete(client, tokens["ann"], case_a, "a", minutes=5).status_code == 200
    entries = audit.case_log(engine, case_a)[before:]
    assert [(e.action, e.actor, e.org, e.address) for e in entries] == [
        (AuditAction.CASE_READ, "ann", "housing_office", "testclient"),
        (AuditAction.STEP_COMPLETED, "ann", "housing_office", "testclient"),
    ]  # the refused read (404) is no read
    assert entries[0].detail == "api"


# --------------------------------------------------------------------------- the matrix

ROUTES = ["inbox", "start", "read", "begin", "complete"]
MATRIX = {
    # who: expected status per route, in ROUTES order, on case A (the housing office's step a)
    "anonymous": (401, 401, 401, 401, 401),
    "facilitator": (403, 403, 403, 403, 403),
    "process_owner": (403, 403, 403, 403, 403),
    "admin": (403, 403, 403, 403, 403),
    "caseworker of the housing office": (200, 201, 200, 200, 200),
    "caseworker of NAV": (200, 201, 404, 404, 404),
}


@pytest.mark.parametrize("who", MATRIX)
def test_the_authorisation_matrix(client, web_store, who):
    """Every API route × every role × own / other organisation × anonymous."""
    engine, case_a = web_store[0], web_store[1].a
    headers = {}
    if who != "anonymous":
        org = "nav" if who.endswith("NAV") else "housing_office"
        role = Role.CASEWORKER if who.startswith("caseworker") else Role(who)
        accounts.add_account(engine, username="eve", password=PASSWORD, orgs=[org], roles=[role],
                             now=MONDAY)  # fmt: skip
        headers = auth(accounts.new_token(engine, "eve", now=MONDAY))
    calls = {
        "inbox": ("GET", "/api/v1/inbox", None),
        "start": ("POST", "/api/v1/cases", {"process": "private_lease", "reference": FNR}),
        "read": ("GET", f"/api/v1/cases/{case_a}", None),
        "begin": ("POST", f"/api/v1/cases/{case_a}/steps/a/begin", None),
        "complete": ("POST", f"/api/v1/cases/{case_a}/steps/a/complete", {"minutes": 1}),
    }
    got = tuple(
        client.request(method, path, headers=headers, json=body).status_code
        for method, path, body in (calls[route] for route in ROUTES)
    )
    assert got == MATRIX[who]
