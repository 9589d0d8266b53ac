"""A real browser (Debian's Chromium) logs in, reads the inbox and a case, and completes a step.

The app runs under uvicorn on 127.0.0.1 at a free port in a thread; the page may reach only
that address. Screenshots at 1280 and 360 px wide go to pytest's tmp folder (printed with -s)
and are copied to ``BOFLYT_SHOTS`` (default ``/tmp/boflyt-shots``) to be looked at.

Journeys: a housing-office caseworker starts a case and completes the tenant's application with
a note, a NAV caseworker (another browser context) completes the joint assessment, the housing
office completes its next step, and the timeline shows both organisations and the handoff; a
wrong password; NAV cannot act on the housing office's step; a second completion from another
page says who completed it; the inbox filter updates the table through htmx.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from boflyt.engine.store import audit
from boflyt.web.app import create_app
from tests.web.conftest import PASSWORD, REF_A, REF_B

pytestmark = pytest.mark.browser


@pytest.fixture
def server(web_store, library, config, clock, key) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(web_store[0], library, config, key=key, clock=clock)
    runner = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    runner.should_exit = True
    thread.join(timeout=10)


SHOTS = Path(os.environ.get("BOFLYT_SHOTS", "/tmp/boflyt-shots"))
"""Where a copy of every screenshot goes, to be looked at."""
CASE_URL = re.compile(r"/cases/[0-9a-f-]{36}$")
"""A case page's address (not /cases/new)."""
REF_NEW = "31129912345"  # the reference typed in the journey: never on a page


def _shot(page, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot in the test's tmp folder, copied to :data:`SHOTS`."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)
    return path


def _log_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/inbox")


def _log_out(page, base: str) -> None:
    page.get_by_role("button", name="Logg ut").click()
    page.wait_for_url(base + "/login")


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _local_page(browser, base: str, width: int, context=None):
    page = (context or browser).new_page(
        **({} if context else {"viewport": {"width": width, "height": 800}})
    )
    page.refused = []

    def guard(route) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            page.refused.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    return page


@pytest.mark.parametrize("width", [1280, 360])
def test_a_caseworker_logs_in_with_the_keyboard_and_opens_a_case_from_the_inbox(
    browser, server, web_store, tmp_path, width
):
    page = _local_page(browser, server, width)
    try:
        page.goto(server + "/")
        assert page.url.endswith("/login")
        page.get_by_label("Brukernavn").fill("bo")
        page.get_by_label("Passord").fill(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(server + "/inbox")
        assert page.get_by_role("heading", name="Innboks").is_visible()
        body = page.inner_text("body")
        case_b = web_store[1].b
        assert case_b[:8] in body and REF_B not in body
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot = tmp_path / f"inbox-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        page.get_by_role("link", name=case_b[:8]).click()
        page.wait_for_url(f"{server}/cases/{case_b}")
        assert "Boligkontoret → NAV-kontoret" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(tmp_path / f"case-{width}.png"), full_page=True)
        print(shot, tmp_path / f"case-{width}.png")
        assert page.refused == []
    finally:
        page.close()


def test_a_wrong_password_in_the_browser_shows_the_message(browser, server, tmp_path):
    page = _local_page(browser, server, 360)
    try:
        page.goto(server + "/login")
        page.get_by_label("Brukernavn").fill("ann")
        page.get_by_label("Passord").fill("not the password")
        page.get_by_role("button", name="Logg inn").click()
        assert page.get_by_role("alert").inner_text().startswith("Feil brukernavn eller passord")
        page.screenshot(path=str(tmp_path / "login-wrong-360.png"), full_page=True)
        print(tmp_path / "login-wrong-360.png")
    finally:
        page.close()


def test_a_caseworker_completes_a_step_in_the_browser_at_360_px(browser, server, web_store):
    case_b = web_store[1].b
    page = _local_page(browser, server, 360)
    try:
        page.goto(server + "/login")
        page.get_by_label("Brukernavn").fill("bo")
        page.get_by_label("Passord").fill(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(server + "/inbox")
        page.goto(f"{server}/cases/{case_b}")
        page.get_by_label("Minutter brukt").fill("40")
        page.get_by_role("button", name="Fullfør steget").click()
        page.wait_for_load_state()
        assert page.url == f"{server}/cases/{case_b}"
        assert "bo · NAV-kontoret" in page.inner_text("main")
        assert page.get_by_role("button", name="Fullfør steget").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert page.refused == []
    finally:
        page.close()


@pytest.mark.parametrize("width", [1280, 360])
def test_two_organisations_move_a_case_between_them_in_their_browsers(
    browser, server, web_store, tmp_path, width
):
    viewport = {"viewport": {"width": width, "height": 800}}
    housing, nav = browser.new_context(**viewport), browser.new_context(**viewport)
    ann, bo = _local_page(browser, server, width, housing), _local_page(browser, server, width, nav)
    try:
        _log_in(ann, server, "ann")
        ann.get_by_role("link", name="Start en sak").click()
        ann.wait_for_url(server + "/cases/new")
        ann.get_by_label("Prosess").select_option("private_lease")
        ann.get_by_label("Saksreferanse").fill(REF_NEW)
        assert ann.get_by_label("Saksreferanse").get_attribute("type") == "password"
        _fits(ann, width)
        _shot(ann, tmp_path, f"start-{width}")
        ann.get_by_role("button", name="Start saken").click()
        ann.wait_for_url(CASE_URL)
        case_id = ann.url.rsplit("/", 1)[1]
        assert REF_NEW not in ann.content() and REF_NEW not in ann.url
        assert ann.get_by_role("heading", name=f"Sak {case_id[:8]}").is_visible()
        ann.get_by_label("Notat (valgfritt)").fill("Søknaden kom på papir")
        ann.get_by_label("Minutter brukt").fill("15")
        ann.get_by_role("button", name="Fullfør steget").click()
        ann.wait_for_load_state()
        assert "Søknaden kom på papir" in ann.inner_text("main")

        _log_in(bo, server, "bo")
        assert case_id[:8] in bo.inner_text("main")  # the joint assessment waits on NAV too
        bo.get_by_role("link", name=case_id[:8]).click()
        bo.wait_for_url(f"{server}/cases/{case_id}")
        bo.get_by_label("Utfall").select_option("in_target_group")
        bo.get_by_label("Minutter brukt").fill("45")
        bo.get_by_role("button", name="Fullfør steget").click()
        bo.wait_for_load_state()
        assert "bo · NAV-kontoret" in bo.inner_text("main")
        assert bo.get_by_role("button", name="Fullfør steget").count() == 0  # housing's step now

        ann.reload()
        ann.get_by_role("button", name="Fullfør steget").click()  # search_dwelling
        ann.wait_for_load_state()
        timeline = ann.inner_text("main")
        assert "bo · NAV-kontoret" in timeline and "ann · Boligkontoret" in timeline
        assert "→ Boligkontoret" in timeline  # the handoff to the housing office
        _fits(ann, width)
        _shot(ann, tmp_path, f"journey-case-{width}")
        assert REF_NEW not in ann.content() and ann.refused == [] and bo.refused == []
        verified = audit.verify(web_store[0])  # nobody changed the record
        assert verified.intact and verified.events > 0, verified.problems
        log = audit.case_log(web_store[0], case_id)  # the innsynslogg: both read and changed it
        assert {(e.actor, e.action.value) for e in log} >= {
            ("ann", "case_started"), ("ann", "case_read"), ("bo", "case_read"),
            ("ann", "step_completed"), ("bo", "step_completed"),
        }  # fmt: skip
    finally:
        housing.close()
        nav.close()


def test_nav_cannot_open_or_act_on_the_housing_office_s_step(browser, server, web_store, tmp_path):
    cases = web_store[1]
    page = _local_page(browser, server, 360)
    try:
        _log_in(page, server, "bo")
        page.goto(f"{server}/cases/{cases.a}")  # waits on the housing office's step a
        assert (
            page.get_by_role("alert").inner_text()
            == "Fant ingen slik sak for organisasjonene dine."
        )
        csrf = page.locator("input[name=csrf]").first.get_attribute("value")
        posted = page.request.post(f"{server}/cases/{cases.b}/steps/a/complete",
                                   form={"csrf": csrf, "minutes": "1"})  # fmt: skip
        assert posted.status == 403  # the housing office's step a of a case NAV may read
        assert "Ingen av organisasjonene dine kan handle på dette steget" in posted.text()
        page.goto(f"{server}/cases/{cases.b}")
        assert page.get_by_role("button", name="Fullfør steget").count() == 1  # only NAV's b
        _shot(page, tmp_path, "nav-not-found-360")
    finally:
        page.close()


def test_a_second_completion_from_another_page_says_who_completed_it(
    browser, server, web_store, tmp_path
):
    case_a = web_store[1].a
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    first, second = (_local_page(browser, server, 1280, context) for _ in range(2))
    try:
        _log_in(first, server, "ann")
        for page in (first, second):
            page.goto(f"{server}/cases/{case_a}")
        first.get_by_role("button", name="Fullfør steget").click()
        first.wait_for_load_state()
        second.get_by_label("Minutter brukt").fill("3")
        second.get_by_role("button", name="Fullfør steget").click()
        second.wait_for_load_state()
        alert = second.get_by_role("alert")
        assert alert.inner_text() == "Steget er allerede fullført av ann."
        assert second.get_by_role("heading", name=f"Sak {case_a[:8]}").is_visible()  # no error page
        _shot(second, tmp_path, "already-completed-1280")
        assert REF_A not in second.content()
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 360])
def test_the_inbox_filter_updates_the_table_through_htmx(browser, server, web_store, tmp_path,
                                                         width):  # fmt: skip
    from boflyt.engine.store import accounts
    from boflyt.models.vocabulary import Role
    from tests.web.conftest import MONDAY

    accounts.add_account(web_store[0], username="di", password=PASSWORD,
                         orgs=["nav", "housing_office"], roles=[Role.CASEWORKER],
                         now=MONDAY)  # fmt: skip
    page = _local_page(browser, server, width)
    try:
        _log_in(page, server, "di")
        page.evaluate("window.fullLoads = (window.fullLoads || 0) + 1")
        assert page.get_by_text("Steg som venter: 2").is_visible()
        _shot(page, tmp_path, f"inbox-filters-{width}")
        page.get_by_label("Organisasjon").select_option("nav")
        page.wait_for_url(f"{server}/inbox?*org=nav*")
        page.get_by_text("Steg som venter: 1 (av 2)").wait_for()
        assert page.evaluate("window.fullLoads") == 1  # the same document: htmx swapped the table
        assert web_store[1].a[:8] not in page.inner_text("#inbox-results")
        page.get_by_label("Bare forfalte").check()
        page.get_by_text("Ingen av de 2 stegene passer filteret").wait_for()
        page.get_by_label("Organisasjon").select_option("")
        page.get_by_text("Steg som venter: 1 (av 2)").wait_for()
        assert "forfalt" in page.inner_text("#inbox-results")
        _fits(page, width)
        _shot(page, tmp_path, f"inbox-overdue-{width}")
        page.go_back()
        page.get_by_text("Ingen av de 2 stegene passer filteret").wait_for()
        assert page.refused == []
    finally:
        page.close()


def test_the_start_form_works_with_the_keyboard_alone_and_shows_the_focus(
    browser, server, tmp_path
):
    page = _local_page(browser, server, 360)
    try:
        _log_in(page, server, "ann")
        page.goto(server + "/cases/new")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Hopp til innholdet"
        focused = []
        for _ in range(8):
            page.keyboard.press("Tab")
            focused.append(page.evaluate("document.activeElement.id || document.activeElement.name"
                                         " || document.activeElement.textContent"))  # fmt: skip
            if focused[-1] == "reference":
                break
        assert focused[-3:] == ["process", "version", "reference"]
        style = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert style == "solid"
        page.keyboard.type(REF_NEW)
        _fits(page, 360)
        _shot(page, tmp_path, "start-focus-360")
        page.keyboard.press("Enter")
        page.wait_for_url(CASE_URL)
        assert REF_NEW not in page.content()
    finally:
        page.close()


def test_a_two_line_note_is_refused_at_its_field_and_kept(browser, server, web_store, tmp_path):
    case_a = web_store[1].a
    page = _local_page(browser, server, 360)
    try:
        _log_in(page, server, "ann")
        page.goto(f"{server}/cases/{case_a}")
        note = page.get_by_label("Notat (valgfritt)")
        note.fill("Første linje\nAndre linje")
        page.get_by_role("button", name="Fullfør steget").click()
        page.wait_for_load_state()
        error = page.locator("#note-error-a")
        assert error.inner_text() == (
            "Notatet må stå på én linje, uten linjeskift eller tabulatorer."
        )
        assert page.get_by_label("Notat (valgfritt)").input_value() == "Første linje\nAndre linje"
        assert page.get_by_label("Notat (valgfritt)").get_attribute("aria-invalid") == "true"
        _fits(page, 360)
        _shot(page, tmp_path, "note-refused-360")
    finally:
        page.close()
