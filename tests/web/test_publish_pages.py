"""The publishing pages and API: a process owner diffs draft v3 against any version (words and
the ghost diagram), confirms, publishes it (audit entry, library reloaded) and a caseworker then
starts a case on v3; retire; the refusals (409, 422 with every problem, 403, 404) write nothing."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from boflyt.engine.definition.load import load_library
from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.vocabulary import Role
from boflyt.web import publish_pages
from boflyt.web.app import WebConfig, create_app
from boflyt.workspace import shipped_library
from tests.web.conftest import MONDAY, PASSWORD, Clock, csrf_of, log_in
from tests.web.test_api import auth

DIFF = "/versions/private_lease/3/diff"
PUBLISH = "/versions/private_lease/3/publish"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the shipped library with draft v3 of private_lease: v2 without its digital
    application step."""
    copy = tmp_path / "processes"
    shutil.copytree(shipped_library(), copy)
    text = (copy / "private_lease" / "v2.yaml").read_text(encoding="utf-8")
    text = text.replace("version: 2\n", "version: 3\n", 1).replace("based_on: 1\n", "based_on: 2\n")
    text = text.replace("status: published\n", "status: draft\n", 1)
    text = text.replace("label: LEAN til-å-være\n", "label: Uten digital søknad\n", 1)
    (copy / "private_lease" / "v3.yaml").write_text(_without_apply_digital(text), "utf-8")
    return copy


def _without_apply_digital(text: str) -> str:
    """The v2 text with step apply_digital removed (start goes straight to joint_assessment)."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "- id: apply_digital")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("- id:"))
    del lines[start:end]
    out = "".join(lines)
    out = out.replace("  - {from: start, to: apply_digital}\n", "")
    return out.replace("{from: apply_digital, to: joint_assessment}",
                       "{from: start, to: joint_assessment}")  # fmt: skip


@pytest.fixture
def world(
    root: Path, sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Engine]]:
    monkeypatch.setattr(
        accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    for name, org, roles in (("pia", "housing_office", [Role.PROCESS_OWNER]),
                             ("fay", "housing_office", [Role.FACILITATOR]),
                             ("ann", "housing_office", [Role.CASEWORKER])):  # fmt: skip
        accounts.add_account(sqlite_engine, username=name, password=PASSWORD, orgs=[org],
                             roles=roles, now=MONDAY)  # fmt: skip
    key = ReferenceKey.load_or_create(tmp_path / "keys" / "reference.key")
    app = create_app(sqlite_engine, load_library(root), WebConfig(secret=b"p" * 32), key=key,
                     clock=Clock(MONDAY))  # fmt: skip
    with TestClient(app, base_url="http://testserver") as client:
        yield client, sqlite_engine


def _audit(engine: Engine) -> list[tuple[str, str, str | None]]:
    query = (
        "SELECT actor, action, detail FROM audit_entry WHERE action LIKE 'version%' ORDER BY seq"
    )
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(query))]


def test_the_diff_page_shows_the_changes_in_words_and_the_ghost_diagram(world) -> None:
    client, _ = world
    log_in(client, "pia")
    page = client.get(DIFF)
    assert page.status_code == 200
    html = page.text
    assert "private_lease v3 mot v2" in html  # the version it is based on, by default
    assert "apply_digital" in html and "<svg" in html
    assert '<option value="1"' in html and '<option value="2" selected' in html
    assert f'href="{PUBLISH}"' in html
    older = client.get(DIFF + "?against=1").text
    assert '<option value="1" selected' in older and "private_lease v3 mot v1" in older
    client.cookies.set("boflyt_lang", "en")
    english = client.get(DIFF).text
    assert "private_lease v3 against v2" in english and "Publish v3…" in english
    assert "(published)" in english
    client.cookies.set("boflyt_lang", "nb")
    assert client.get(DIFF + "?against=7").status_code == 404
    assert client.get("/versions/private_lease/x/diff").status_code == 404
    assert client.get("/versions/nosuch/1/diff").status_code == 404


def test_a_facilitator_sees_the_diff_but_may_not_publish(world) -> None:
    client, _ = world
    log_in(client, "fay")
    html = client.get(DIFF).text
    assert "<svg" in html and PUBLISH not in html
    assert client.get(PUBLISH).status_code == 403
    log_in(client, "ann")
    assert client.get(DIFF).status_code == 403


def test_publishing_after_the_confirmation_records_it_and_a_case_can_start_on_v3(
    world, root: Path
) -> None:
    client, engine = world
    log_in(client, "pia")
    confirm = client.get(PUBLISH)
    assert confirm.status_code == 200
    for shown in ("utkast", "publisert", "Boligkontoret, Larvik kommune", "pia", "2025-01-06",
                  "Sammenlignet med v2", 'action="/versions/private_lease/3/publish"'):  # fmt: skip
        assert shown in confirm.text, shown
    done = client.post(PUBLISH, data={"csrf": csrf_of(client, PUBLISH)}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, DIFF + "?done=published")
    assert "private_lease v3 er publisert." in client.get(done.headers["location"]).text
    assert "status: published\n" in (root / "private_lease" / "v3.yaml").read_text()
    assert _audit(engine) == [("pia", "version_published", "private_lease@v3")]
    log_in(client, "ann")
    assert "v1, v2, v3" in client.get("/cases/new").text
    data = {"csrf": csrf_of(client, "/cases/new"), "process": "private_lease", "version": "3",
            "reference": "24127012345"}  # fmt: skip
    started = client.post("/cases/new", data=data, follow_redirects=False)
    assert started.status_code == 303
    case_id = started.headers["location"].removeprefix("/cases/")
    assert store.get_case(engine, case_id).version == 3


def test_refused_posts_write_nothing(world, root: Path) -> None:
    client, engine = world
    path = root / "private_lease" / "v3.yaml"
    before = path.read_bytes()
    log_in(client, "pia")
    assert client.post(PUBLISH, data={"csrf": "forged"}).status_code == 403
    log_in(client, "fay")
    assert client.post(PUBLISH, data={"csrf": csrf_of(client, DIFF)}).status_code == 403
    log_in(client, "pia")
    csrf = csrf_of(client, DIFF)
    assert client.post("/versions/private_lease/2/publish", data={"csrf": csrf}).status_code == 409
    retired = client.post("/versions/private_lease/3/retire", data={"csrf": csrf})
    assert retired.status_code == 409
    assert "private_lease v3 har status utkast; bare en publisert versjon" in retired.text
    assert client.get("/versions/private_lease/3/retire").status_code == 409
    assert client.post("/versions/private_lease/9/publish", data={"csrf": csrf}).status_code == 404
    assert path.read_bytes() == before and _audit(engine) == []


def test_a_draft_with_problems_lists_them_at_their_lines_and_is_not_published(world, root) -> None:
    client, engine = world
    path = root / "private_lease" / "v3.yaml"
    broken = path.read_text().replace("lane: tenant\n", "lane: tennant\n", 1)
    path.write_text(broken)
    log_in(client, "pia")
    answer = client.post(PUBLISH, data={"csrf": csrf_of(client, DIFF)})
    assert answer.status_code == 422
    assert "unknown lane &#39;tennant&#39;" in answer.text and "linje " in answer.text
    assert path.read_text() == broken and _audit(engine) == []


def test_a_broken_draft_shows_its_problems_instead_of_a_diff_or_a_confirmation(
    root: Path, request: pytest.FixtureRequest
) -> None:
    path = root / "private_lease" / "v3.yaml"
    path.write_text(path.read_text().replace("lane: tenant\n", "lane: tennant\n", 1))
    client, _ = request.getfixturevalue("world")  # the app loads the broken library
    log_in(client, "pia")
    for url in (DIFF, PUBLISH):
        page = client.get(url)
        assert page.status_code == 422, url
        assert "unknown lane &#39;tennant&#39;" in page.text and "<svg" not in page.text


def test_retiring_a_version_stops_new_cases_on_it(world, root: Path) -> None:
    client, engine = world
    log_in(client, "pia")
    confirm = client.get("/versions/private_lease/1/retire")
    assert confirm.status_code == 200 and "utgått" in confirm.text
    csrf = csrf_of(client, DIFF)
    done = client.post("/versions/private_lease/1/retire", data={"csrf": csrf},
                       follow_redirects=False)  # fmt: skip
    assert done.headers["location"] == "/versions/private_lease/1/diff?done=retired"
    assert (
        "status: retired  # retired 2025-01-06 by pia\n"
        in (root / "private_lease" / "v1.yaml").read_text()
    )
    assert _audit(engine) == [("pia", "version_retired", "private_lease@v1")]
    log_in(client, "ann")
    assert "(private_lease, v2)" in client.get("/cases/new").text
    data = {"csrf": csrf_of(client, "/cases/new"), "process": "private_lease", "version": "1",
            "reference": "24127012345"}  # fmt: skip
    assert client.post("/cases/new", data=data, follow_redirects=False).status_code == 422


def test_the_api_publishes_and_retires_for_process_owners_only(world, root: Path) -> None:
    client, engine = world
    tokens = {n: accounts.new_token(engine, n, now=MONDAY) for n in ("pia", "fay", "ann")}
    url = "/api/v1/processes/private_lease/versions/{n}/{action}"
    pia = auth(tokens["pia"])
    assert (
        client.post(url.format(n=3, action="publish"), headers=auth(tokens["fay"])).status_code
        == 403
    )
    assert (
        client.post(url.format(n=3, action="publish"), headers=auth(tokens["ann"])).status_code
        == 403
    )
    assert client.post(url.format(n=3, action="publish")).status_code == 401
    assert client.post(url.format(n=9, action="publish"), headers=pia).status_code == 404
    assert client.post(url.format(n=3, action="retire"), headers=pia).status_code == 409
    path = root / "private_lease" / "v3.yaml"
    path.write_text(path.read_text().replace("lane: tenant\n", "lane: tennant\n", 1))
    bad = client.post(url.format(n=3, action="publish"), headers=pia)
    assert bad.status_code == 422
    [problem] = [p for p in bad.json()["detail"] if "tennant" in p["msg"]]
    assert problem["loc"][1] > 0 and problem["loc"][2].endswith(".lane")
    path.write_text(path.read_text().replace("lane: tennant\n", "lane: tenant\n", 1))
    done = client.post(url.format(n=3, action="publish"), headers=pia)
    assert done.status_code == 200
    expected = {"process": "private_lease", "version": 3, "status": "published",
                "previous": "draft", "owner": "pia", "date": "2025-01-06", "by": "pia"}  # fmt: skip
    assert done.json() == expected
    assert client.post(url.format(n=3, action="publish"), headers=pia).status_code == 409
    assert client.post(url.format(n=2, action="retire"), headers=pia).json()["status"] == "retired"
    assert [a for _, a, _ in _audit(engine)] == ["version_published", "version_retired"]


def test_the_ghost_diagram_is_rendered_once_per_pair_of_versions(world) -> None:
    client, _ = world
    log_in(client, "pia")
    publish_pages._SVGS.clear()
    publish_pages._SHOWN.clear()
    started = time.perf_counter()
    first = client.get(DIFF + "?against=1").text
    cold = time.perf_counter() - started
    started = time.perf_counter()
    again = client.get(DIFF + "?against=1").text
    warm = time.perf_counter() - started
    assert len(publish_pages._SVGS) == len(publish_pages._SHOWN) == 1 and first == again
    assert warm < cold


# --------------------------------------------------------------------------- in a browser

SHOTS = Path("/tmp/boflyt-shots")


@pytest.fixture
def server(world) -> Iterator[str]:
    """The test app under uvicorn on a free local port, in a thread."""
    client, _ = world
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(client.app, host="127.0.0.1", port=port, log_level="warning")
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    runner.should_exit = True
    thread.join(timeout=10)


def _page(browser, base: str, width: int, height: int):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)

    def guard(route) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            page.problems.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    return page


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"13-publish-{name}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("width, height", [(1366, 768), (1920, 1080), (360, 740)])
def test_a_process_owner_diffs_confirms_and_publishes_with_the_keyboard(
    browser, server, root: Path, width: int, height: int
) -> None:
    page = _page(browser, server, width, height)
    try:
        page.goto(server + "/login")
        page.get_by_label("Brukernavn").fill("pia")
        page.get_by_label("Passord").fill(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(server + "/processes")
        page.goto(server + DIFF + "?against=1")
        assert page.locator("figure.publish-diagram svg").count() == 1
        _shot(page, f"diff-{width}")
        page.get_by_role("link", name="Publiser v3 …").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(server + PUBLISH)
        assert page.get_by_role("table").get_by_text("utkast").count() == 1
        _shot(page, f"confirm-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.get_by_role("button", name="Publiser v3").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(server + DIFF + "?done=published")
        assert page.get_by_role("status").inner_text() == "private_lease v3 er publisert."
        _shot(page, f"published-{width}")
        assert page.problems == []
    finally:
        page.close()
    assert "status: published" in (root / "private_lease" / "v3.yaml").read_text()
