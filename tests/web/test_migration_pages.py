"""The migration page: a process owner plans moving private_lease's running v1 cases to v2
(where each stands now and will stand, warnings, refusals in the page language), maps a step
v2 no longer has, applies the plan and sees each case's result; a changed plan is shown again
instead of applied; other roles get 403 naming the role and nothing moves."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from boflyt.engine.definition.load import Library
from boflyt.engine.store import accounts, queries
from boflyt.engine.store import commands as store
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.vocabulary import Role
from boflyt.web import migration_pages
from boflyt.web.app import WebConfig, create_app
from tests.web.conftest import MONDAY, PASSWORD, Clock, csrf_of, log_in

PAGE = "/processes/private_lease/migrate"

WALK = (  # private_lease v1 from its first step to search_dwelling, which v2 keeps
    ("apply_on_paper", "housing_office", None),
    ("nav_register_assess", "nav", "in_target_group"),
    ("nav_refer_by_email", "nav", None),
    ("ho_register_applicant", "housing_office", "complete"),
)


@dataclass(frozen=True)
class World:
    engine: Engine
    client: TestClient
    paper: str
    """A v1 case on apply_on_paper (a step v2 no longer has)."""
    searching: str
    """A v1 case on search_dwelling (v2 has it too)."""


def start_v1(engine: Engine, library: Library, key: ReferenceKey, ref: str, steps: int) -> str:
    """A private_lease v1 case walked ``steps`` steps along :data:`WALK`."""
    version = library.get("private_lease", 1)
    case = store.start_case(engine, version=version, ref=ref, key=key, actor="ann",
                            org="housing_office", now=MONDAY, lanes=library.lanes)  # fmt: skip
    for n, (step, org, outcome) in enumerate(WALK[:steps], start=1):
        store.complete_step(engine, case_id=case.case_id, step=step, outcome=outcome,
                            actor="ann" if org == "housing_office" else "bo", org=org,
                            now=MONDAY + dt.timedelta(hours=n), lanes=library.lanes)  # fmt: skip
    return case.case_id


@pytest.fixture
def world(
    sqlite_engine: Engine, library: Library, key: ReferenceKey, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    monkeypatch.setattr(
        accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    for name, org, roles in (("pia", "housing_office", [Role.PROCESS_OWNER]),
                             ("fay", "housing_office", [Role.FACILITATOR]),
                             ("ann", "housing_office", [Role.CASEWORKER]),
                             ("bo", "nav", [Role.CASEWORKER])):  # fmt: skip
        accounts.add_account(sqlite_engine, username=name, password=PASSWORD, orgs=[org],
                             roles=roles, now=MONDAY)  # fmt: skip
    paper = start_v1(sqlite_engine, library, key, "ref-paper", 0)
    searching = start_v1(sqlite_engine, library, key, "ref-search", len(WALK))
    clock = Clock(MONDAY + dt.timedelta(days=2))
    app = create_app(sqlite_engine, library, WebConfig(secret=b"g" * 32), key=key, clock=clock)
    with TestClient(app, base_url="http://testserver") as client:
        yield World(sqlite_engine, client, paper, searching)


def _as(world: World, user: str) -> TestClient:
    assert log_in(world.client, user).status_code == 303
    return world.client


def _versions(engine: Engine) -> dict[str, int]:
    return {case.id: case.version for case in queries.list_cases(engine, process="private_lease")}


def _plan(client: TestClient, **fields: str) -> Any:
    """Post the plan form: private_lease v1 to v2 and ``fields`` (``map.<step>`` as
    ``map_<step>``)."""
    data = {"from": "1", "to": "2", "csrf": csrf_of(client, PAGE)}
    data |= {k.replace("map_", "map.", 1): v for k, v in fields.items()}
    return client.post(PAGE, data=data)


def _apply_form(html: str) -> dict[str, str]:
    """The hidden fields of the page's apply form."""
    form = html.split('class="migrate-apply"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_the_form_offers_the_versions_with_their_running_cases(world: World) -> None:
    client = _as(world, "pia")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Flytt løpende saker" in page.text
    assert "2 løpende saker" in page.text  # both cases run on v1
    assert '<option value="2" selected>' in page.text  # the newest published version
    assert 'name="map.apply_on_paper"' in page.text  # a step v2 no longer has
    assert "migrate-plan" not in page.text  # no plan before it is asked for


def test_the_plan_says_where_each_case_stands_and_refuses_the_one_on_a_removed_step(
    world: World,
) -> None:
    client = _as(world, "pia")
    page = _plan(client)
    assert page.status_code == 200, page.text
    html = page.text
    assert "Plan: private_lease v1 → v2" in html
    assert f'href="/cases/{world.searching}"' in html
    assert f'href="/cases/{world.paper}"' in html
    assert "Henvendelse og papirsøknad om bolig" in html  # where the paper case stands
    assert "Saken står på steget «Henvendelse og papirsøknad om bolig», som v2 ikke har" in html
    assert "1 sak står her" in html  # the mapping row that matters is shown first
    # warnings name steps as people know them, not by their ids
    assert "Saken har passert steget Henvendelse og papirsøknad om bolig, som" in html
    assert "passert steget apply_on_paper" not in html
    assert "Flytt 1 sak til v2" in html
    assert _versions(world.engine) == {world.paper: 1, world.searching: 1}  # nothing written


def test_the_plan_in_english(world: World) -> None:
    client = _as(world, "pia")
    client.get("/language/en?next=/inbox")
    html = _plan(client).text
    assert "Plan: private_lease v1 → v2" in html
    assert "which v2 does not have" in html
    assert "Move 1 case to v2" in html


def test_a_process_owner_maps_the_removed_step_and_moves_both_cases(world: World) -> None:
    client = _as(world, "pia")
    html = _plan(client, map_apply_on_paper="apply_digital").text
    assert "Flytt 2 saker til v2" in html
    fields = _apply_form(html)
    assert fields["map.apply_on_paper"] == "apply_digital"
    fields["csrf"] = csrf_of(client, PAGE)
    done = client.post(PAGE, data=fields)
    assert done.status_code == 200, done.text
    assert "2 saker flyttet, 0 urørt." in done.text
    assert f'href="/cases/{world.paper}"' in done.text
    assert _versions(world.engine) == {world.paper: 2, world.searching: 2}
    with world.engine.connect() as conn:
        audit = conn.execute(
            sa.text("SELECT actor FROM audit_entry WHERE action = 'case_migrated'")
        ).scalars()
        assert list(audit) == ["pia", "pia"]


def test_only_the_cases_listed_are_planned_and_moved(world: World) -> None:
    client = _as(world, "pia")
    html = _plan(client, cases=world.searching[:8]).text
    assert f'href="/cases/{world.searching}"' in html
    assert f'href="/cases/{world.paper}"' not in html
    fields = _apply_form(html) | {"csrf": csrf_of(client, PAGE)}
    assert fields["cases"] == world.searching
    assert "1 sak flyttet, 0 urørt." in client.post(PAGE, data=fields).text
    assert _versions(world.engine) == {world.paper: 1, world.searching: 2}


def test_a_plan_that_changed_since_it_was_shown_is_shown_again_not_applied(
    world: World, library: Library, key: ReferenceKey
) -> None:
    client = _as(world, "pia")
    fields = _apply_form(_plan(client).text) | {"csrf": csrf_of(client, PAGE)}
    late = start_v1(world.engine, library, key, "ref-late", len(WALK))  # started meanwhile
    again = client.post(PAGE, data=fields)
    assert again.status_code == 409
    assert "Sakene har endret seg siden du så planen" in again.text
    assert f'href="/cases/{late}"' in again.text
    assert set(_versions(world.engine).values()) == {1}


def test_a_wrong_form_is_told_at_its_fields(world: World) -> None:
    client = _as(world, "pia")
    page = _plan(client, to="1", map_apply_on_paper="nowhere", cases="zz")
    assert page.status_code == 422
    assert "Sakene går allerede på v1" in page.text
    page = _plan(client, map_apply_on_paper="nowhere", cases="01017012345")
    assert page.status_code == 422
    assert "Velg et steg som finnes i v2." in page.text
    assert "Linje 1: ingen sak har den id-en" in page.text
    assert "01017012345" not in page.text  # a reference typed in the wrong place is not echoed
    page = _plan(client, cases=f"{world.searching[:8]}\n01017012345")
    assert page.status_code == 422
    assert "Linje 2:" in page.text and "01017012345" not in page.text
    assert f">{world.searching}</textarea>" in page.text  # the good line is kept, in full


def test_an_unknown_process_is_404(world: World) -> None:
    client = _as(world, "pia")
    assert client.get("/processes/nothing/migrate").status_code == 404


@pytest.mark.parametrize("user", ["fay", "ann"])
def test_other_roles_are_refused_naming_the_role_and_nothing_moves(world: World, user: str) -> None:
    client = _as(world, user)
    page = client.get(PAGE)
    assert page.status_code == 403
    assert "prosesseier" in page.text.lower()
    assert _plan(client).status_code == 403
    data = {"from": "1", "to": "2", "action": "apply", "csrf": csrf_of(client, PAGE)}
    assert client.post(PAGE, data=data).status_code == 403
    assert set(_versions(world.engine).values()) == {1}


def test_a_post_without_the_csrf_token_is_refused(world: World) -> None:
    client = _as(world, "pia")
    fields = _apply_form(_plan(client).text)
    del fields["csrf"]
    assert client.post(PAGE, data=fields).status_code == 403
    assert set(_versions(world.engine).values()) == {1}


def test_the_version_page_and_the_diff_page_lead_a_process_owner_here(world: World) -> None:
    client = _as(world, "pia")
    version = client.get("/processes/private_lease/versions/1").text
    assert 'href="/processes/private_lease/migrate?from=1"' in version
    assert "Flytt løpende saker fra v1" in version
    diff = client.get("/versions/private_lease/2/diff").text
    assert 'href="/processes/private_lease/migrate?to=2"' in diff
    form = client.get(PAGE + "?from=2").text  # from the newest: to the newest other
    assert '<option value="1" selected>' in form.split('id="m-to"', 1)[1]


def test_a_facilitator_is_not_led_here(world: World) -> None:
    client = _as(world, "fay")
    assert "/migrate" not in client.get("/processes/private_lease/versions/1").text


def test_a_case_the_plan_refuses_is_left_untouched_and_the_result_says_why(world: World) -> None:
    client = _as(world, "pia")
    fields = _apply_form(_plan(client).text) | {"csrf": csrf_of(client, PAGE)}
    done = client.post(PAGE, data=fields)
    assert done.status_code == 200
    assert "1 sak flyttet, 1 urørt." in done.text
    row = done.text.split(f'href="/cases/{world.paper}"', 1)[1].split("</tr>", 1)[0]
    assert "Urørt" in row and "som v2 ikke har" in row
    assert _versions(world.engine) == {world.paper: 1, world.searching: 2}


def test_a_long_plan_lists_the_refused_cases_first(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migration_pages, "MAX_ROWS", 1)
    client = _as(world, "pia")
    html = _plan(client).text
    assert "2 saker: 1 kan flyttes" in html  # the counts cover every case
    assert "Tabellen viser 1 av sakene, først dem som ikke blir flyttet" in html
    assert f'href="/cases/{world.paper}"' in html  # refused: listed
    assert f'href="/cases/{world.searching}"' not in html
    assert "Flytt 1 sak til v2" in html
