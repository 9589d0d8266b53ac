"""The process owners' draft pages: start a draft from a version, edit it with live checks and a
preview, save only over what was loaded (a conflict shows both texts), upload; the API's drafts
route; each write audited and seen by the app's library."""

from __future__ import annotations

import html as html_lib
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from boflyt.engine.definition.load import Library, load_library
from boflyt.engine.store import accounts
from boflyt.engine.store.statements import AUDIT_TABLE
from boflyt.models.vocabulary import AuditAction, Role, VersionStatus
from boflyt.web.app import WebConfig, create_app
from boflyt.workspace import shipped_library
from tests.web.conftest import MONDAY, PASSWORD, Clock, csrf_of, log_in


@dataclass
class Site:
    client: TestClient
    engine: Engine
    root: Path
    app_library: object

    @property
    def library(self) -> Library:
        return self.client.app.state.boflyt.library  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def site(
    tmp_path: Path, sqlite_engine: Engine, key: Any, clock: Clock, monkeypatch: Any
) -> Iterator[Site]:
    """A process owner (pia) and a caseworker (ann) over a copy of the shipped library (the
    cheapest password hashing: these tests are about drafts, not logins)."""
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                             parallelism=1))  # fmt: skip
    root = tmp_path / "processes"
    shutil.copytree(shipped_library(), root)
    for name, roles in (("pia", [Role.PROCESS_OWNER]), ("ann", [Role.CASEWORKER])):
        accounts.add_account(sqlite_engine, username=name, password=PASSWORD,
                             orgs=["housing_office"], roles=roles, now=MONDAY)  # fmt: skip
    app = create_app(sqlite_engine, load_library(root), WebConfig(secret=b"d" * 32), key=key,
                     clock=clock)  # fmt: skip
    with TestClient(app, base_url="http://testserver") as client:
        assert log_in(client, "pia").status_code == 303
        yield Site(client, sqlite_engine, root, None)


def _new_v3(site: Site) -> str:
    data = {"source": "private_lease@v2", "csrf": csrf_of(site.client, "/drafts")}
    response = site.client.post("/drafts", data=data, follow_redirects=False)
    assert response.status_code == 303
    return str(response.headers["location"])


def _editor(site: Site, url: str) -> tuple[str, str, str]:
    """The editor's text, loaded hash and CSRF token."""
    html = site.client.get(url).text
    text = re.search(r'<textarea id="draft-text"[^>]*>(.*?)</textarea>', html, re.S)
    hash_ = re.search(r'name="hash" value="([0-9a-f]{64})"', html)
    assert text and hash_
    return html_lib.unescape(text.group(1)), hash_.group(1), csrf_of(site.client, url)


def test_the_drafts_page_lists_every_version_in_the_new_draft_form(site: Site) -> None:
    html = site.client.get("/drafts").text
    options = re.findall(r'<option value="([a-z_]+@v\d+)"', html)
    assert len(options) == 6 and "private_lease@v2" in options
    assert 'action="/drafts/upload"' in html


def test_new_draft_from_v2_writes_v3_seen_by_the_library_and_audited(site: Site) -> None:
    assert _new_v3(site) == "/drafts/private_lease/3"
    assert (site.root / "private_lease" / "v3.yaml").is_file()
    v3 = site.library.get("private_lease", 3)
    assert (v3.status, v3.based_on, v3.owner) == (VersionStatus.DRAFT, 2, "pia")
    assert _audited(site) == [("pia", "private_lease v3 created from v2")]


def _audited(site: Site) -> list[tuple[str, str]]:
    """(actor, detail) of every draft_saved entry of the audit log, oldest first."""
    query = (
        sa.select(AUDIT_TABLE.c.actor, AUDIT_TABLE.c.detail)
        .where(AUDIT_TABLE.c.action == AuditAction.DRAFT_SAVED.value)
        .order_by(AUDIT_TABLE.c.seq)
    )
    with site.engine.connect() as conn:
        return [(row.actor, row.detail) for row in conn.execute(query)]


def test_the_editor_shows_the_text_a_valid_preview_and_codemirror(site: Site) -> None:
    html = site.client.get(_new_v3(site)).text
    assert "<svg" in html and "/static/codemirror/codemirror.js" in html
    assert "/static/editor.js" in html and "<script>" not in html


def test_check_returns_every_problem_with_line_place_and_message(site: Site) -> None:
    url = _new_v3(site)
    text, _, csrf = _editor(site, url)
    broken = text.replace("lane: nav\n", "lane: navv\n", 1).replace("to: move_in}", "to: move_inn}")
    body = site.client.post(url + "/check", data={"text": broken, "csrf": csrf}).json()
    assert body["valid"] is False and body["svg"] is None
    lines = broken.split("\n")
    found = {p["message"].split(";")[0].split(" (")[0]: p for p in body["problems"]}
    assert "navv" in lines[found["unknown lane 'navv'"]["line"] - 1]
    assert "move_inn" in lines[found["unknown step 'move_inn'"]["line"] - 1]
    assert found["unknown lane 'navv'"]["place"].endswith(".lane")
    fixed = site.client.post(url + "/check", data={"text": text, "csrf": csrf}).json()
    assert fixed["valid"] is True and fixed["problems"] == [] and "<svg" in fixed["svg"]


def test_save_writes_the_text_and_a_stale_hash_is_a_conflict_showing_both(site: Site) -> None:
    url = _new_v3(site)
    text, loaded, csrf = _editor(site, url)
    mine = text.replace("label: LEAN til-å-være", "label: Runde to")
    saved = site.client.post(url, data={"text": mine, "hash": loaded, "csrf": csrf,
                                        "action": "save"}, follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303
    assert site.library.get("private_lease", 3).label == "Runde to"
    assert _audited(site)[-1] == ("pia", "private_lease v3 saved")
    stale = text.replace("label: LEAN til-å-være", "label: Min egen")
    conflict = site.client.post(url, data={"text": stale, "hash": loaded, "csrf": csrf,
                                           "action": "save"})  # fmt: skip
    assert conflict.status_code == 409
    assert "Min egen" in conflict.text and "Runde to" in conflict.text  # both states
    assert "by pia" in conflict.text
    assert site.library.get("private_lease", 3).label == "Runde to"


def test_a_save_with_problems_is_refused_and_the_text_kept(site: Site) -> None:
    url = _new_v3(site)
    text, loaded, csrf = _editor(site, url)
    before = (site.root / "private_lease" / "v3.yaml").read_bytes()
    broken = text.replace("lane: nav\n", "lane: navv\n", 1)
    page = site.client.post(url, data={"text": broken, "hash": loaded, "csrf": csrf,
                                       "action": "save"})  # fmt: skip
    assert page.status_code == 422 and "navv" in page.text and "unknown lane" in page.text
    assert (site.root / "private_lease" / "v3.yaml").read_bytes() == before


def test_a_published_version_is_shown_read_only_and_never_saved(site: Site) -> None:
    text, loaded, csrf = _editor(site, "/drafts/private_lease/2")
    page = site.client.get("/drafts/private_lease/2").text
    assert "readonly" in page and 'value="save"' not in page
    before = (site.root / "private_lease" / "v2.yaml").read_bytes()
    refused = site.client.post("/drafts/private_lease/2", data={"text": text, "hash": loaded,
                               "csrf": csrf, "action": "save"})  # fmt: skip
    assert refused.status_code == 409
    assert (site.root / "private_lease" / "v2.yaml").read_bytes() == before


def test_upload_writes_the_next_draft_or_lists_every_problem(site: Site) -> None:
    text = (site.root / "eviction_prevention" / "v2.yaml").read_text(encoding="utf-8")
    csrf = csrf_of(site.client, "/drafts")
    bad = site.client.post(
        "/drafts/upload",
        data={
            "process": "eviction_prevention",
            "csrf": csrf,
            "text": text.replace("kind: end", "kind: ned"),
        },
    )
    assert bad.status_code == 422 and "unknown step kind" in bad.text
    assert not (site.root / "eviction_prevention" / "v3.yaml").exists()
    good = site.client.post("/drafts/upload", data={"process": "eviction_prevention",
                            "csrf": csrf, "text": text}, follow_redirects=False)  # fmt: skip
    assert good.headers["location"] == "/drafts/eviction_prevention/3"
    assert site.library.get("eviction_prevention", 3).status is VersionStatus.DRAFT


def test_a_caseworker_gets_403_and_nothing_is_written(site: Site) -> None:
    other = TestClient(site.client.app, base_url="http://testserver")
    log_in(other, "ann")
    data = {"source": "private_lease@v2", "csrf": csrf_of(other)}
    assert other.post("/drafts", data=data, follow_redirects=False).status_code == 403
    assert not (site.root / "private_lease" / "v3.yaml").exists()


def test_api_creates_a_draft_from_yaml_or_lists_every_problem(site: Site) -> None:
    token = accounts.new_token(site.engine, "pia", now=MONDAY)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/yaml"}
    text = (site.root / "private_lease" / "v2.yaml").read_text(encoding="utf-8")
    bad = site.client.post("/api/v1/processes/private_lease/drafts", headers=headers,
                           content=text.replace("lane: nav\n", "lane: navv\n", 1))  # fmt: skip
    assert bad.status_code == 422
    problems = bad.json()["problems"]
    assert any(p["message"].startswith("unknown lane 'navv'") and p["line"] > 0 for p in problems)
    assert not (site.root / "private_lease" / "v3.yaml").exists()
    good = site.client.post("/api/v1/processes/private_lease/drafts", headers=headers,
                            content=text.encode())  # fmt: skip
    assert good.status_code == 201 and good.json()["number"] == 3
    assert site.library.get("private_lease", 3).status is VersionStatus.DRAFT
    ann = accounts.new_token(site.engine, "ann", now=MONDAY)
    refused = site.client.post(
        "/api/v1/processes/private_lease/drafts",
        content=text.encode(),
        headers={**headers, "Authorization": f"Bearer {ann}"},
    )
    assert refused.status_code == 403
    assert not (site.root / "private_lease" / "v4.yaml").exists()


def test_check_without_javascript_shows_the_problems_and_saves_nothing(site: Site) -> None:
    url = _new_v3(site)
    text, loaded, csrf = _editor(site, url)
    before = (site.root / "private_lease" / "v3.yaml").read_bytes()
    broken = text.replace("kind: end", "kind: ned", 1)
    page = site.client.post(url, data={"text": broken, "hash": loaded, "csrf": csrf,
                                       "action": "check"})  # fmt: skip
    assert page.status_code == 200 and "unknown step kind &#39;ned&#39;" in page.text
    assert "kind: ned" in page.text  # the visitor's text is in the editor
    assert (site.root / "private_lease" / "v3.yaml").read_bytes() == before


def test_the_editor_speaks_english_when_chosen(site: Site) -> None:
    url = _new_v3(site)
    site.client.cookies.set("boflyt_lang", "en")
    html = site.client.get(url).text
    assert "The version file private_lease/v3.yaml" in html and "No problems." in html
    assert "Status: draft. Owner: pia." in html
