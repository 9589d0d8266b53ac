"""Roles on the pages: the caseworker's pages need the caseworker role; without it, 403 naming
the role needed and the roles the account has, in the page language (never a crash)."""

from __future__ import annotations

import pytest

from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.models.vocabulary import Role
from tests.web.conftest import MONDAY, PASSWORD, csrf_of, log_in


@pytest.fixture
def admin(web_store) -> str:
    """An account of the housing office with only the admin and facilitator roles."""
    accounts.add_account(web_store[0], username="ola", password=PASSWORD, orgs=["housing_office"],
                         roles=[Role.ADMIN, Role.FACILITATOR], now=MONDAY)  # fmt: skip
    return "ola"


def _pages(case_id: str) -> list[str]:
    return ["/inbox", f"/cases/{case_id}", "/cases/new"]


def test_every_caseworker_page_refuses_an_account_without_the_role(client, web_store, admin):
    case_a = web_store[1].a
    assert log_in(client, admin).status_code == 303
    for path in _pages(case_a):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "krever rollen saksbehandler" in response.text
        assert "rollene: administrator, fasilitator" in response.text
        assert "Innlogget som ola" in response.text  # still logged in: the page, not a crash


def test_step_posts_and_the_start_form_refuse_an_account_without_the_role(client, web_store, admin):
    engine, cases = web_store
    log_in(client, admin)
    csrf = csrf_of(client, "/login")
    begun = client.post(f"/cases/{cases.a}/steps/a/begin", data={"csrf": csrf})
    started = client.post("/cases/new", data={"csrf": csrf, "process": "private_lease",
                                              "reference": "12345678901"})  # fmt: skip
    assert begun.status_code == started.status_code == 403
    assert "saksbehandler" in begun.text and "12345678901" not in started.text
    assert all(i.status.value == "ready" for i in store.get_case(engine, cases.a).items
               if i.step == "a")  # fmt: skip


def test_the_role_refusal_speaks_english_after_the_switch(client, admin):
    log_in(client, admin)
    client.get("/language/en?next=/inbox")
    response = client.get("/inbox")
    assert response.status_code == 403
    assert "needs the role caseworker" in response.text
    assert "roles: administrator, facilitator" in response.text


def test_an_account_with_no_roles_is_told_it_has_none(client, web_store):
    accounts.add_account(web_store[0], username="nils", password=PASSWORD, orgs=["nav"],
                         roles=[], now=MONDAY)  # fmt: skip
    log_in(client, "nils")
    response = client.get("/inbox")
    assert response.status_code == 403 and "rollene: ingen" in response.text


def test_a_caseworker_passes(client):
    log_in(client, "ann")
    assert client.get("/inbox").status_code == 200
    assert client.get("/cases/new").status_code == 200
