"""A process owner writes a new version in a real browser (Debian's Chromium): creates v3 from
v2, makes two mistakes, sees both marked at their lines, fixes them, sees the preview, saves.

The app runs under uvicorn on 127.0.0.1 over a copy of the shipped library; the page may reach
only that address (CodeMirror and everything else come from /static). Screenshots at 1366×768
and 1920×1080 go to ``BOFLYT_SHOTS`` (default ``/tmp/boflyt-shots``) as ``13-drafts-*.png``.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher

from boflyt.engine.definition.load import load_library
from boflyt.engine.store import accounts
from boflyt.models.vocabulary import Role
from boflyt.web.app import WebConfig, create_app
from boflyt.workspace import shipped_library
from tests.web.conftest import MONDAY, PASSWORD
from tests.web.test_browser import SHOTS

pytestmark = pytest.mark.browser


@pytest.fixture
def owner_server(
    tmp_path: Path, sqlite_engine, key, clock, monkeypatch
) -> Iterator[tuple[str, Path]]:
    """The app over a copy of the library, with the process owner pia; its address and root."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_HASHER", cheap)
    root = tmp_path / "processes"
    shutil.copytree(shipped_library(), root)
    roles = [Role.PROCESS_OWNER]
    accounts.add_account(sqlite_engine, username="pia", password=PASSWORD,
                         orgs=["housing_office"], roles=roles, now=MONDAY)  # fmt: skip
    app = create_app(sqlite_engine, load_library(root), WebConfig(secret=b"b" * 32), key=key,
                     clock=clock)  # fmt: skip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    runner = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", root
    runner.should_exit = True
    thread.join(timeout=10)


def expect(locator: Any) -> Any:
    """Playwright's ``expect`` (imported late: Playwright is optional)."""
    return pytest.importorskip("playwright.sync_api").expect(locator)


def _page(browser: Any, base: str, width: int, height: int) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.refused, page.csp = [], []

    def guard(route: Any) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            page.refused.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.on("console", lambda m: page.csp.append(m.text) if "Content Security" in m.text else None)
    return page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"13-drafts-{name}.png"))


def _type_at_end_of(page: Any, needle: str, typed: str) -> None:
    """Put the cursor at the end of the first line that is exactly ``needle`` (stripped, or
    containing it), then type ``typed`` with the keyboard."""
    found = page.evaluate(
        """(needle) => {
            const cm = document.querySelector('.CodeMirror').CodeMirror;
            for (let i = 0; i < cm.lineCount(); i++) {
                const text = cm.getLine(i);
                if (text.trim() === needle || text.includes(needle)) {
                    cm.focus(); cm.setCursor({line: i, ch: text.length}); return i;
                }
            }
            return -1;
        }""",
        needle,
    )
    assert found >= 0, needle
    page.keyboard.type(typed)


def _marked_lines(page: Any) -> dict[int, str]:
    """Editor lines (1-based) with a problem marker in the gutter, and their text."""
    return page.evaluate(
        """() => {
            const cm = document.querySelector('.CodeMirror').CodeMirror;
            const out = {};
            for (let i = 0; i < cm.lineCount(); i++) {
                const info = cm.lineInfo(i);
                const marks = info.gutterMarkers || {};
                if (marks['draft-gutter']) out[i + 1] = info.text;
            }
            return out;
        }"""
    )


@pytest.mark.parametrize(
    "size", [(1366, 768), (1920, 1080), (360, 800)], ids=["1366x768", "1920x1080", "360x800"]
)
def test_a_process_owner_writes_v3_from_v2_with_two_mistakes_fixed_in_the_browser(
    browser: Any, owner_server: tuple[str, Path], size: tuple[int, int]
) -> None:
    base, root = owner_server
    width, height = size
    page = _page(browser, base, width, height)
    page.goto(base + "/login")
    page.get_by_label("Brukernavn").fill("pia")
    page.get_by_label("Passord").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/processes")
    page.goto(base + "/drafts")
    _shot(page, f"{width}-list")
    page.get_by_label("Lag et nytt utkast fra").select_option("private_lease@v2")
    page.get_by_role("button", name="Lag utkast").click()
    page.wait_for_url(base + "/drafts/private_lease/3")
    page.wait_for_selector(".CodeMirror")
    page.wait_for_selector("#preview svg")
    assert page.locator("#problems-summary").inner_text() == "Ingen problemer."
    _shot(page, f"{width}-new")

    _type_at_end_of(page, "lane: nav", "v")  # an unknown lane
    _type_at_end_of(page, "{from: sign_sublease, to: move_in}", "")  # line of the 2nd mistake
    page.keyboard.press("ArrowLeft")  # before the closing brace
    page.keyboard.type("n")  # move_inn: an unknown step
    page.locator("#problems li").nth(1).wait_for()
    expect(page.locator("#problems")).to_contain_text("move_inn")
    marked = _marked_lines(page)
    assert any(text.strip() == "lane: navv" for text in marked.values()), marked
    assert any("move_inn" in text for text in marked.values()), marked
    listed = page.locator("#problems").inner_text()
    for line, text in marked.items():
        if "navv" in text or "move_inn" in text:
            assert f"Linje {line}" in listed
    assert page.locator("#preview svg").count() == 1  # the last valid state stays
    assert "siste gyldige" in page.locator("#preview-note").inner_text()
    page.locator("#problems a[data-line]").first.click()  # jumps to the line in the editor
    _shot(page, f"{width}-two-mistakes")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    for problem in ("unknown lane 'navv'", "unknown step 'move_inn'"):
        expect(page.locator("#problems")).to_contain_text(problem)

    _type_at_end_of(page, "lane: navv", "")
    page.keyboard.press("Backspace")
    _type_at_end_of(page, "to: move_inn}", "")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Backspace")
    expect(page.locator("#problems-summary")).to_have_text("Ingen problemer.")
    assert _marked_lines(page) == {}
    assert "slik den står" in page.locator("#preview-note").inner_text()
    page.locator("#preview").scroll_into_view_if_needed()
    _shot(page, f"{width}-fixed-preview")

    page.get_by_role("button", name="Lagre", exact=True).click()
    page.wait_for_url(base + "/drafts/private_lease/3?saved=1")
    assert page.locator("p.notice[role=status]").inner_text() == "Lagret."
    saved = (root / "private_lease" / "v3.yaml").read_text(encoding="utf-8")
    assert "navv" not in saved and "move_inn" not in saved and "owner: pia" in saved
    assert page.refused == [] and page.csp == []
    page.close()
