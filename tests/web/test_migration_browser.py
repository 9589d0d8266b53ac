"""A process owner moves private_lease's running v1 cases to v2 in a real browser (Debian's
Chromium): from the v1 page to the migration form, the plan (one case refused: it stands on a
step v2 no longer has), a mapping for that step, the plan again, "Flytt saker", the result with
links to the case pages; then the language switch shows the form in English.

The app runs under uvicorn on 127.0.0.1; the page may reach only that address and must break
no Content-Security-Policy rule (no inline script). At 360 px nothing is wider than the screen.
Full-page screenshots go to ``BOFLYT_SHOTS`` (default ``/tmp/boflyt-shots``) as
``15-migrate-*.png``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from boflyt.engine.definition.load import Library
from boflyt.engine.store import accounts, queries
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.vocabulary import Role
from boflyt.web.app import WebConfig, create_app
from tests.web.conftest import MONDAY, PASSWORD, Clock
from tests.web.test_browser import SHOTS
from tests.web.test_migration_pages import WALK, start_v1

pytestmark = pytest.mark.browser


@pytest.fixture
def owner_server(
    sqlite_engine: Engine,
    library: Library,
    key: ReferenceKey,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[str, dict[str, str]]]:
    """The app with the process owner pia and two running private_lease v1 cases (``paper``
    on a step v2 lacks, ``searching`` on one v2 keeps); its address and the cases."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_HASHER", cheap)
    for name, org, roles in (("pia", "housing_office", [Role.PROCESS_OWNER]),
                             ("ann", "housing_office", [Role.CASEWORKER]),
                             ("bo", "nav", [Role.CASEWORKER])):  # fmt: skip
        accounts.add_account(sqlite_engine, username=name, password=PASSWORD, orgs=[org],
                             roles=roles, now=MONDAY)  # fmt: skip
    cases = {
        "paper": start_v1(sqlite_engine, library, key, "ref-paper", 0),
        "searching": start_v1(sqlite_engine, library, key, "ref-search", len(WALK)),
    }
    app = create_app(sqlite_engine, library, WebConfig(secret=b"w" * 32), key=key, clock=clock)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    runner = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", cases
    runner.should_exit = True
    thread.join(timeout=10)


def expect(locator: Any) -> Any:
    """Playwright's ``expect`` (imported late: Playwright is optional)."""
    return pytest.importorskip("playwright.sync_api").expect(locator)


def _page(browser: Any, base: str, width: int, height: int) -> Any:
    """A page that may reach only ``base`` and records Content-Security-Policy complaints."""
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
    page.screenshot(path=str(SHOTS / f"15-migrate-{name}.png"), full_page=True)


def _fits(page: Any, width: int) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("size", [(1366, 768), (360, 800)], ids=["1366x768", "360x800"])
def test_a_process_owner_plans_maps_and_moves_the_running_v1_cases_in_the_browser(
    browser: Any,
    owner_server: tuple[str, dict[str, str]],
    sqlite_engine: Engine,
    size: tuple[int, int],
) -> None:
    base, cases = owner_server
    width, height = size
    page = _page(browser, base, width, height)
    page.goto(base + "/login")
    page.get_by_label("Brukernavn").fill("pia")
    page.get_by_label("Passord").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/processes")

    page.goto(base + "/processes/private_lease/versions/1")
    page.get_by_role("link", name="Flytt løpende saker fra v1 …").click()
    page.wait_for_url(base + "/processes/private_lease/migrate?from=1")
    expect(page.get_by_label("Sakene går nå på")).to_have_value("1")
    expect(page.get_by_label("Flytt dem til")).to_have_value("2")
    page.get_by_role("button", name="Vis plan").click()

    table = page.locator("table.migrate-table")
    expect(table).to_contain_text("Henvendelse og papirsøknad om bolig")
    expect(table).to_contain_text("som v2 ikke har")
    expect(page.get_by_role("button", name="Flytt 1 sak til v2")).to_be_visible()
    _fits(page, width)
    _shot(page, f"{width}-plan-refused")

    page.get_by_label("Henvendelse og papirsøknad om bolig").select_option("apply_digital")
    page.get_by_role("button", name="Vis plan").click()
    expect(page.locator(".migrate-summary")).to_contain_text("2 saker: 2 kan flyttes")
    expect(table.locator("tr.migrate-refused")).to_have_count(0)
    _fits(page, width)
    _shot(page, f"{width}-plan")

    page.get_by_role("button", name="Flytt 2 saker til v2").click()
    expect(page.get_by_role("status")).to_have_text("2 saker flyttet, 0 urørt.")
    for case_id in cases.values():
        expect(page.locator(f'a[href="/cases/{case_id}"]')).to_have_count(1)
    _fits(page, width)
    _shot(page, f"{width}-result")

    page.get_by_role("link", name="English").click()  # back to the form, in English
    expect(page.get_by_role("heading", level=1)).to_contain_text("Move running cases")
    expect(page.get_by_role("button", name="Show plan")).to_be_visible()

    moved = queries.list_cases(sqlite_engine, process="private_lease")
    assert {c.id: c.version for c in moved} == {cases["paper"]: 2, cases["searching"]: 2}
    assert page.refused == [] and page.csp == []
