"""A real browser (Debian's Chromium) logs in, reads the inbox and a case, and completes a step.

The app runs under uvicorn on 127.0.0.1 at a free port in a thread; the page may reach only
that address. Screenshots at 1280 and 360 px wide go to pytest's tmp folder (printed with -s).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from boflyt.web.app import create_app
from tests.web.conftest import PASSWORD, REF_B

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


def _local_page(browser, base: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 800})
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
