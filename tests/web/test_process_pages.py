"""The process catalogue, a version's page, its step panel and downloads, and the API's process
routes (issue 13).

The library here holds the shipped processes and ``test_process`` v1 (start → a, housing office
→ b, NAV → end), whose registered cases the tests play through the store, so the registered
figures, their suppression below five cases and the per-step waits can be checked by hand: each
case waits one working day before ``b`` and records 30 and 60 touch minutes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from boflyt.engine.case.commands import CompleteStep, StartCase
from boflyt.engine.case.decide import decide
from boflyt.engine.definition.library import Library
from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.tables import SimulationRun
from boflyt.models.vocabulary import Role
from boflyt.web import process_figures
from boflyt.web.api import PREFIX
from boflyt.web.app import WebConfig, create_app
from tests.factories import linear_version
from tests.web.conftest import MONDAY, PASSWORD, Clock, log_in
from tests.web.test_api import auth

LINEAR = linear_version()
PAGE = "/processes/test_process/versions/1"


@pytest.fixture
def world(
    sqlite_engine: Engine, library: Library, key: ReferenceKey, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Engine, str]]:
    """A facilitator (fay, logged in), an admin (ada) and a caseworker (ann) with a token
    (passwords hashed with argon2's cheapest parameters: these tests are not about logins)."""
    monkeypatch.setattr(process_figures, "STORE_SECONDS", 0.0)  # a registration shows at once
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                            parallelism=1))  # fmt: skip
    engine = sqlite_engine
    for name, roles in (("fay", [Role.FACILITATOR]), ("ada", [Role.ADMIN]),
                        ("ann", [Role.CASEWORKER])):  # fmt: skip
        accounts.add_account(engine, username=name, password=PASSWORD, orgs=["housing_office"],
                             roles=roles, now=MONDAY)  # fmt: skip
    token = accounts.new_token(engine, "ann", now=MONDAY)
    both = Library(library.root, library.lanes, {**library.by_process, "test_process": (LINEAR,)},
                   library.broken)  # fmt: skip
    clock = Clock(MONDAY + dt.timedelta(days=30))
    app = create_app(engine, both, WebConfig(secret=b"p" * 32), key=key, clock=clock)
    with TestClient(app, base_url="http://testserver") as client:
        assert log_in(client, "fay").status_code == 303
        yield client, engine, token


def register(engine: Engine, key: ReferenceKey, cases: int) -> None:
    """``cases`` finished live cases of test_process v1, a day apart: each waits one working
    day (Monday 9:00 → Tuesday 9:00, less its 60 touch minutes: no begin is recorded) before
    NAV's ``b``, touch 30 and 60 minutes."""
    for n in range(cases):
        start = MONDAY + dt.timedelta(weeks=n)
        given = {"key": key, "actor": "ann", "org": "housing_office"}
        case = store.start_case(engine, version=LINEAR, ref=f"r-{uuid.uuid4().hex[:10]}",
                                now=start, **given)  # fmt: skip
        store.complete_step(engine, case_id=case.case_id, step="a", actor="ann",
                            org="housing_office", touch_minutes=30, now=start)  # fmt: skip
        store.complete_step(engine, case_id=case.case_id, step="b", actor="bo", org="nav",
                            touch_minutes=60, now=start + dt.timedelta(days=1))  # fmt: skip


def simulate(engine: Engine, cases: int) -> None:
    """A stored simulation of ``cases`` finished cases of test_process v1 (one handoff each)."""
    sim_id = str(uuid.uuid4())
    states, events = [], []
    for n in range(cases):
        at = MONDAY + dt.timedelta(hours=n)
        d = decide(LINEAR, None, StartCase(f"s{n}", "sim", "housing_office"), now=at)
        log = list(d.events)
        for step, org in (("a", "housing_office"), ("b", "nav")):
            d = decide(LINEAR, d.state, CompleteStep(step, "sim", org, touch_minutes=10),
                       now=at)  # fmt: skip
            log += d.events
        states.append(d.state)
        events += log
    run = SimulationRun(id=sim_id, process="test_process", version=1, scenario="default",
                        seed=7, cases=cases, created_at=MONDAY,
                        content_hash=LINEAR.content_hash, origin="simulate")  # fmt: skip
    store.append_simulated(engine, simulation=run, states=states, events=events)


def _figures_row(html: str, source: str) -> str:
    return html.split(f'<th scope="row">{source}</th>', 1)[1].split("</tr>", 1)[0]


def test_the_catalogue_lists_every_process_with_its_versions_and_design_figures(world) -> None:
    client, _, _ = world
    html = client.get("/processes").text
    for process in ("eviction_prevention", "private_lease", "refugee_settlement", "test_process"):
        assert f"/processes/{process}/versions/1" in html
    assert "/processes/private_lease/versions/2" in html
    lease = html.split("(private_lease)", 1)[1]
    assert "publisert" in lease and "Boligkontoret, Larvik kommune" in lease
    linear = html.split("(test_process)", 1)[1]
    designed = _figures_row(linear, "Forventet")
    assert "<td>1,0</td><td>1,0</td><td>3,2</td>" in designed  # 1 handoff, lead 3,2 days
    assert "Ingen simulering" in _figures_row(linear, "Simulert")
    assert "Ingen registrerte saker" in _figures_row(linear, "Registrert")


def test_registered_figures_of_fewer_than_five_cases_are_suppressed(world, key) -> None:
    client, engine, _ = world
    register(engine, key, 4)
    row = _figures_row(client.get("/processes").text.split("(test_process)", 1)[1], "Registrert")
    assert "<td>–</td><td>–</td><td>–</td>" in row and "Færre enn 5 saker" in row
    register(engine, key, 1)  # the fifth: shown now (the cache is keyed by the event count)
    row = _figures_row(client.get("/processes").text.split("(test_process)", 1)[1], "Registrert")
    assert "<td>1,0</td><td>1,0</td>" in row and "5 avsluttede saker" in row


def test_the_newest_simulation_gives_the_simulated_figures(world) -> None:
    client, engine, _ = world
    simulate(engine, 3)  # simulated cases are not suppressed: nobody's data
    row = _figures_row(client.get(PAGE).text, "Simulert")
    assert "<td>1,0</td><td>1,0</td>" in row and "3 avsluttede saker (simulated:1)" in row


def test_the_version_page_inlines_the_swimlane_with_focusable_steps(world) -> None:
    client, _, _ = world
    response = client.get("/processes/private_lease/versions/2")
    assert response.status_code == 200
    html = response.text
    assert '<svg width="' in html and "<?xml" not in html
    assert 'data-step="search_dwelling"' in html and 'tabindex="0" role="button"' in html
    assert 'src="/static/zoom.js"' in html and "<script>" not in html and "style=" not in html
    assert 'data-zoom="in"' in html and 'data-zoom="out"' in html and 'data-zoom="reset"' in html
    assert "/processes/private_lease/versions/2/timeline.svg" in html
    assert "Ingen registrert verdistrøm" in html  # no registered cases of private_lease
    assert "venting" in html  # the waste table


def test_the_step_panel_shows_fields_wastes_registrations_and_registered_times(world, key):
    client, engine, _ = world
    register(engine, key, 5)
    panel = client.get(PAGE + "/steps/b", headers={"HX-Request": "true"})
    assert panel.status_code == 200 and "<html" not in panel.text
    text = panel.text
    assert "<code>b</code>" in text and "NAV-kontoret" in text
    median = text.split("Median ventetid</dt><dd>", 1)[1].split("</dd>", 1)[0]
    assert median == "0,9 arbeidsdager"  # (Mon 9:00 → Tue 9:00) − 60 touch min: 390 / 450
    touch = text.split("Median arbeidstid</dt><dd>", 1)[1].split("</dd>", 1)[0]
    assert touch == "60 min"
    full = client.get(PAGE + "/steps/b")  # without htmx: a whole page
    assert "<html" in full.text and "Tilbake til v1" in full.text


def test_the_step_panel_suppresses_registered_times_of_fewer_than_five_cases(world, key):
    client, engine, _ = world
    register(engine, key, 2)
    text = client.get(PAGE + "/steps/b", headers={"HX-Request": "true"}).text
    assert "Færre enn 5 saker" in text and "Median ventetid" not in text


def test_the_registered_value_stream_appears_with_five_cases(world, key) -> None:
    client, engine, _ = world
    assert client.get(PAGE + "/timeline.svg?runs=live").status_code == 404
    register(engine, key, 5)
    assert "timeline.svg?runs=live" in client.get(PAGE).text
    response = client.get(PAGE + "/timeline.svg?runs=live")
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    assert b"registrert (median per steg)" in response.content


def test_downloads_are_svg_png_and_csv(world, key) -> None:
    client, engine, _ = world
    register(engine, key, 5)
    svg = client.get(PAGE + "/swimlane.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    assert "attachment" in svg.headers["content-disposition"]
    png = client.get(PAGE + "/swimlane.png")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    rows = list(csv.DictReader(io.StringIO(client.get(PAGE + "/steps.csv").text.lstrip("\ufeff"))))
    b = next(r for r in rows if r["step"] == "b")
    assert (b["registered_cases"], b["median_touch_minutes"], b["lanes"]) == ("5", "60.0", "nav")
    wastes = client.get(PAGE + "/wastes.csv").text.lstrip("\ufeff").splitlines()
    assert wastes[0] == "waste,steps,step_ids" and len(wastes) == 9  # the eight wastes


def test_csv_cells_never_start_a_formula() -> None:
    from boflyt.web.process_pages import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("ok") == "ok"


@pytest.mark.parametrize(
    "url",
    ["/processes/test_process/versions/2", "/processes/nowhere/versions/1",
     "/processes/test_process/versions/v1", PAGE + "/steps/zzz", PAGE + "/swimlane.gif",
     PAGE + "/other.csv", PAGE + "/timeline.svg?runs=simulated"],
)  # fmt: skip
def test_unknown_things_are_404_with_the_message_not_the_address(world, url: str) -> None:
    client, _, _ = world
    response = client.get(url)
    assert response.status_code == 404
    message = response.text.split('role="alert">', 1)[1].split("</p>", 1)[0]
    assert message == "Fant ingen slik prosess, versjon eller steg."


def test_an_admin_without_a_reading_role_gets_403(world) -> None:
    client, _, _ = world
    client.post("/logout", data={"csrf": ""})
    admin = TestClient(client.app, base_url="http://testserver")
    log_in(admin, "ada")
    assert admin.get("/processes").status_code == 403


def test_the_page_is_in_english_with_the_english_cookie(world) -> None:
    client, _, _ = world
    client.cookies.set("boflyt_lang", "en")
    html = client.get(PAGE).text
    assert "Swimlane diagram" in html and "Headline figures per case" in html


def test_the_api_lists_processes_and_their_versions(world) -> None:
    client, _, token = world
    body = client.get(PREFIX + "/processes", headers=auth(token)).json()
    lease = next(p for p in body["processes"] if p["process"] == "private_lease")
    assert [v["version"] for v in lease["versions"]] == [1, 2]
    assert {v["status"] for v in lease["versions"]} == {"published"}
    assert len(lease["versions"][0]["content_hash"]) == 64
    assert client.get(PREFIX + "/processes").status_code == 401


def test_the_api_gives_the_swimlane_as_svg(world) -> None:
    client, _, token = world
    url = PREFIX + "/processes/private_lease/versions/2/swimlane.svg"
    response = client.get(url, headers=auth(token))
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    assert b"search_dwelling" in response.content
    english = client.get(url + "?lang=en", headers=auth(token)).content
    assert english != response.content
    missing = client.get(PREFIX + "/processes/private_lease/versions/9/swimlane.svg",
                         headers=auth(token))  # fmt: skip
    assert missing.status_code == 404 and "lists them" in missing.json()["detail"]


def test_a_render_is_cached_by_content_hash(world, monkeypatch) -> None:
    client, _, _ = world
    calls = []
    real = process_figures.render_swimlane
    monkeypatch.setattr(process_figures, "render_swimlane",
                        lambda *a, **k: calls.append(1) or real(*a, **k))  # fmt: skip
    process_figures._CACHE._items.clear()
    for _ in range(3):
        assert client.get(PAGE).status_code == 200
    assert client.get(PAGE + "/swimlane.svg").status_code == 200
    assert len(calls) == 1  # the inline swimlane and the download share one render


# --------------------------------------------------------------------------- in a browser

SHOTS = Path(os.environ.get("BOFLYT_SHOTS", "/tmp/boflyt-shots"))


@pytest.fixture
def served(world, key) -> Iterator[str]:
    """The app of :func:`world` under uvicorn on a free local port, with five registered cases
    of test_process."""
    client, engine, _ = world
    register(engine, key, 5)
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


def _browser_page(browser, base: str, width: int, height: int):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.refused = []
    page.errors = []

    def guard(route) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            page.refused.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/login")
    page.get_by_label("Brukernavn").fill("fay")
    page.get_by_label("Passord").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/processes")
    return page


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"13-process-{name}.png"), full_page=False)


def _until(check, seconds: float = 5.0) -> None:
    """Wait for ``check()`` (the page's CSP forbids Playwright's wait_for_function)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _scale(page) -> float:
    return float(page.get_attribute("#swimlane", "data-scale"))


@pytest.mark.browser
@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_a_facilitator_zooms_the_swimlane_and_opens_a_step(browser, served, width, height):
    page = _browser_page(browser, served, width, height)
    try:
        _shot(page, f"catalogue-{width}")
        page.get_by_role("link", name="v2: ").first.wait_for()
        page.goto(served + "/processes/private_lease/versions/2")
        fitted = _scale(page)
        page.get_by_role("button", name="Zoom inn").click()
        page.get_by_role("button", name="Zoom inn").click()
        assert _scale(page) == pytest.approx(fitted * 1.25 * 1.25, rel=1e-2)
        page.locator("#swimlane").scroll_into_view_if_needed()
        box = page.locator("#swimlane").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(0, 300)  # down: out
        zoomed = fitted * 1.25 * 1.25
        _until(lambda: _scale(page) < zoomed)
        page.get_by_role("button", name="Tilpass").click()
        assert _scale(page) == pytest.approx(fitted, rel=1e-3)
        page.locator("#swimlane").focus()  # the keyboard: + zooms in, 0 fits again
        page.keyboard.press("+")
        assert _scale(page) == pytest.approx(fitted * 1.25, rel=1e-2)
        page.keyboard.press("0")
        assert _scale(page) == pytest.approx(fitted, rel=1e-3)
        step = page.locator('g[data-step="search_dwelling"]')
        step.click()
        panel = page.locator("#step-panel")
        panel.get_by_role("heading", name="Boligsøk").wait_for()
        assert "search_dwelling" in panel.inner_text()
        _shot(page, f"version-{width}")
        step.focus()  # the keyboard: a step is a button, Enter opens it
        page.locator('g[data-step="sign_sublease"]').focus()
        page.keyboard.press("Enter")
        panel.locator("code", has_text="sign_sublease").wait_for()
        page.goto(served + "/processes/test_process/versions/1")
        page.locator('g[data-step="b"]').click()
        panel.get_by_text("Median ventetid").wait_for()
        assert "0,9 arbeidsdager" in panel.inner_text()
        _shot(page, f"registered-{width}")
        page.locator("#timeline-h").scroll_into_view_if_needed()
        _shot(page, f"timeline-{width}")
        assert page.refused == [] and page.errors == []
    finally:
        page.close()


@pytest.mark.browser
def test_the_version_page_fits_a_phone(browser, served):
    page = _browser_page(browser, served, 360, 740)
    try:
        page.goto(served + "/processes/private_lease/versions/2")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.get_by_role("button", name="Zoom ut").click()
        page.locator('g[data-step="search_dwelling"]').focus()
        page.keyboard.press("Enter")
        page.locator("#step-panel code", has_text="search_dwelling").wait_for()
        _shot(page, "version-360")
        assert page.refused == [] and page.errors == []
    finally:
        page.close()


def test_the_version_page_leads_a_facilitator_to_compare_diff_and_what_if(world, library) -> None:
    """The version page links its work: before/after against the version it is based on, what
    changed, a what-if simulation; a caseworker reads the page without those links."""
    client = world[0]
    html = client.get("/processes/private_lease/versions/2").text
    assert 'href="/processes/private_lease/compare?a=1&amp;b=2"' in html
    assert 'href="/versions/private_lease/2/diff"' in html
    assert 'href="/processes/private_lease/versions/2/whatif"' in html
    assert "/publish" not in html  # publishing is the process owner's
    for link in ("/processes/private_lease/compare?a=1&b=2", "/versions/private_lease/2/diff",
                 "/processes/private_lease/versions/2/whatif"):  # fmt: skip
        assert client.get(link).status_code == 200, link
    assert log_in(client, "ann").status_code == 303
    assert "/whatif" not in client.get("/processes/private_lease/versions/2").text
