"""Issue 13's two browser journeys, end to end in a real browser (Debian's Chromium).

* A facilitator runs a before/after workshop from the browser alone: the catalogue, before/after
  of each seed process (the comparison table and the ghost view), the swimlane zoomed and a step
  opened, a small what-if simulation started and watched until it finishes, its comparison with
  the simulated run set's figures, and the monthly trends.
* A process owner writes v3 of private_lease from v2 in the editor, makes two mistakes and sees
  both at their lines, fixes them, sees the preview, saves, reads the diff against v2 (the ghost
  diagram), publishes after the confirmation; a caseworker then starts a case on v3. The audit
  log holds the owner's ``draft_saved`` and ``version_published`` and verifies intact.

Each journey runs at 1366×768 and 1920×1080 against its own server: uvicorn on 127.0.0.1 over a
COPY of the shipped processes folder (the owner journey writes files) and a fresh SQLite store.
The page may reach only that address. Screenshots go to ``BOFLYT_SHOTS`` (default
``/tmp/boflyt-shots``) as ``13-journey-facilitator-*.png`` and ``13-journey-owner-*.png``.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from boflyt.engine.definition.load import load_library
from boflyt.engine.store import accounts, audit
from boflyt.engine.store import commands as store
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.vocabulary import Role
from boflyt.web.app import WebConfig, create_app
from boflyt.workspace import shipped_library
from tests.web.conftest import MONDAY, PASSWORD, Clock
from tests.web.test_browser import SHOTS

pytestmark = pytest.mark.browser

SEEDS = ("eviction_prevention", "private_lease", "refugee_settlement")
SIZES = [(1366, 768), (1920, 1080)]
SIZE_IDS = ["1366x768", "1920x1080"]
REFERENCE = "24127012345"  # looks like a fødselsnummer: typed once, never shown


@dataclass(frozen=True)
class Served:
    """A running app: its address, its processes folder and its store."""

    base: str
    root: Path
    engine: Engine


@pytest.fixture
def served(
    tmp_path: Path, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Served]:
    """The app under uvicorn over a copy of the shipped library and a fresh store, with fay
    (facilitator), pia (process owner) and ann (caseworker) of the housing office; what-if runs
    go to the data folder in ``tmp_path`` and run on the core (no Prefect), as the what-if
    page's own browser test runs them."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_HASHER", cheap)  # these tests are not about logins
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "data"))
    root = tmp_path / "processes"
    shutil.copytree(shipped_library(), root)
    for name, role in (("fay", Role.FACILITATOR), ("pia", Role.PROCESS_OWNER),
                       ("ann", Role.CASEWORKER)):  # fmt: skip
        accounts.add_account(sqlite_engine, username=name, password=PASSWORD,
                             orgs=["housing_office"], roles=[role], now=MONDAY)  # fmt: skip
    key = ReferenceKey.load_or_create(tmp_path / "keys" / "reference.key")
    app = create_app(sqlite_engine, load_library(root), WebConfig(secret=b"j" * 32), key=key,
                     clock=Clock(MONDAY))  # fmt: skip
    app.state.whatif_prefect = False
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    runner = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runner.started, "the server did not start in 10 s"
    yield Served(f"http://127.0.0.1:{port}", root, sqlite_engine)
    runner.should_exit = True
    thread.join(timeout=10)


def expect(locator: Any) -> Any:
    """Playwright's ``expect`` (imported late: Playwright is optional)."""
    return pytest.importorskip("playwright.sync_api").expect(locator)


def _page(browser: Any, base: str, width: int, height: int) -> Any:
    """A page that may reach only ``base``; refused requests and console errors are kept in
    ``page.problems``."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)

    def guard(route: Any) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            page.problems.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    return page


def _log_in(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()  # whoever was logged in before
    page.goto(base + "/login")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/(processes|inbox)$"))


def _shot(page: Any, journey: str, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"13-journey-{journey}-{width}-{name}.png"))


def _fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _scale(page: Any) -> float:
    return float(page.get_attribute("#swimlane", "data-scale"))


def _loaded_images(page: Any, selector: str) -> list[int]:
    """The natural widths of the images under ``selector`` (0: did not load)."""
    return page.evaluate(  # type: ignore[no-any-return]
        "(s) => [...document.querySelectorAll(s)].map(i => i.complete ? i.naturalWidth : 0)",
        selector,
    )


def _what_if(page: Any, base: str, version: int, width: int) -> str:
    """From refugee_settlement's version page: a what-if run of 40 cases, watched until it
    finishes; its run set's name (``simulated:N``)."""
    page.get_by_role("link", name="Hva om … (simuler)").click()
    page.wait_for_url(base + f"/processes/refugee_settlement/versions/{version}/whatif")
    page.get_by_label("Antall saker").fill("40")
    page.get_by_label("Navn på kjøringen").fill(f"workshop_v{version}")
    if version == 2:
        _shot(page, "facilitator", "whatif-form", width)
    page.get_by_role("button", name="Start simuleringen").click()
    page.wait_for_url(re.compile(r"/whatif/jobs/[0-9a-f]{32}$"))
    page.wait_for_selector(".whatif-finished, .whatif-failed", timeout=120_000)  # htmx polled
    assert page.locator(".whatif-finished").count() == 1, page.locator(
        "#whatif-status"
    ).inner_text()
    assert page.locator("#whatif-progress").get_attribute("value") == "100"
    found = re.search(r"simulated:\d+", page.locator(".whatif-result").inner_text())
    assert found is not None
    return found.group(0)


# --------------------------------------------------------------------------- the facilitator


@pytest.mark.slow
@pytest.mark.parametrize(("width", "height"), SIZES, ids=SIZE_IDS)
def test_a_facilitator_runs_a_before_after_workshop_from_the_browser(
    browser: Any, served: Served, width: int, height: int
) -> None:
    base = served.base
    page = _page(browser, base, width, height)
    try:
        _log_in(page, base, "fay")
        for process in SEEDS:  # every seed process is in the catalogue, v1 and v2
            expect(page.locator(f'a[href="/processes/{process}/versions/2"]')).to_have_count(1)
        _shot(page, "facilitator", "catalogue", width)

        for process in SEEDS:  # before/after of each, from its v2 page
            page.locator(f'a[href="/processes/{process}/versions/2"]').click()
            page.wait_for_url(base + f"/processes/{process}/versions/2")
            page.get_by_role("link", name="Før og etter (mot v1)").click()
            page.wait_for_url(base + f"/processes/{process}/compare?a=1&b=2")
            page.wait_for_load_state("networkidle")
            expect(page.get_by_role("heading", name="Sammenligningstabell")).to_be_visible()
            assert page.locator(".cmp-table table").count() >= 1
            design = page.locator(".cmp-table table").first.inner_text()
            assert "før\tetter" in design and "Arbeidssteg" in design, design
            expect(page.get_by_role("heading", name="Endringene i ett diagram")).to_be_visible()
            ghost = _loaded_images(page, f'img[src^="/processes/{process}/compare/ghost.svg"]')
            assert len(ghost) == 1 and ghost[0] > 0, ghost
            assert all(w > 0 for w in _loaded_images(page, ".cmp-scroll img"))
            _fits(page, width)
            _shot(page, "facilitator", f"compare-{process}", width)
            page.locator("#cmp-table").scroll_into_view_if_needed()
            _shot(page, "facilitator", f"compare-{process}-table", width)
            page.goto(base + "/processes")

        # the version page: zoom the swimlane with its buttons, open a step
        page.goto(base + "/processes/refugee_settlement/versions/2")
        page.locator("#swimlane svg").wait_for()
        page.get_by_role("button", name="Tilpass").click()
        fitted = _scale(page)
        page.get_by_role("button", name="Zoom inn").click()
        page.get_by_role("button", name="Zoom inn").click()
        zoomed = _scale(page)
        assert zoomed > fitted
        page.get_by_role("button", name="Zoom ut").click()
        assert fitted < _scale(page) < zoomed
        _shot(page, "facilitator", "version-zoomed", width)
        page.get_by_role("button", name="Tilpass").click()  # the whole diagram in view
        assert _scale(page) == fitted
        first_step = page.locator("#swimlane g[data-step]:not(.kind-start)").first
        step = first_step.get_attribute("data-step")
        first_step.click()
        page.locator("#step-panel code", has_text=step).wait_for()
        _shot(page, "facilitator", "version-step", width)

        # what-if: small runs on the core, watched until they finish; first v2 from its page,
        # then v1 as the baseline (the before/after of two run sets needs one on each side)
        v2_runs = _what_if(page, base, 2, width)
        _shot(page, "facilitator", "whatif-finished", width)
        page.goto(base + "/processes/refugee_settlement/versions/1")
        v1_runs = _what_if(page, base, 1, width)
        page.get_by_role("link", name=re.compile("med versjon 2")).click()
        page.wait_for_url(re.compile(r"/processes/refugee_settlement/compare\?a=1&b=2&ra="))
        assert v1_runs in page.url.replace("%3A", ":")
        expect(page.locator("#cmp-ra")).to_have_value(v1_runs)
        page.locator("#cmp-rb").select_option(v2_runs)  # the v2 run, chosen on the page
        page.get_by_role("button", name="Vis").click()
        page.wait_for_url(re.compile(r"rb=simulated"))
        page.wait_for_load_state("networkidle")
        tables = page.locator(".cmp-table table")
        assert tables.count() == 2, "no observed table of the simulated run sets"
        observed = tables.nth(1).inner_text()
        assert "før (n=40)\tetter (n=40)" in observed and "95 % KI" in observed, observed
        assert re.search(r"Gjennomløpstid\t\d+,\d d\t\d+,\d d", observed), observed
        runs = page.locator("#cmp-table").locator("..").inner_text()
        assert "40 saker" in runs and "kjøring 1" in runs and "kjøring 2" in runs, runs
        assert all(w > 0 for w in _loaded_images(page, ".cmp-scroll img"))
        _fits(page, width)
        _shot(page, "facilitator", "whatif-compare", width)
        page.locator("#cmp-table").scroll_into_view_if_needed()
        _shot(page, "facilitator", "whatif-compare-table", width)

        # the monthly trends, from the main menu
        page.get_by_role("link", name="Trender").first.click()
        page.wait_for_url(base + "/trends")
        page.locator('main a[href="/trends/refugee_settlement"]').click()
        page.wait_for_url(base + "/trends/refugee_settlement")
        expect(page.locator("h1")).to_be_visible()
        _fits(page, width)
        _shot(page, "facilitator", "trends", width)
        assert page.problems == []
    finally:
        page.close()


# --------------------------------------------------------------------------- the process owner


def _type_at_end_of(page: Any, needle: str, typed: str) -> None:
    """Put the editor's cursor at the end of the first line containing ``needle`` and type."""
    found = page.evaluate(
        """(needle) => {
            const cm = document.querySelector('.CodeMirror').CodeMirror;
            for (let i = 0; i < cm.lineCount(); i++) {
                const text = cm.getLine(i);
                if (text.includes(needle)) {
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
    return page.evaluate(  # type: ignore[no-any-return]
        """() => {
            const cm = document.querySelector('.CodeMirror').CodeMirror;
            const out = {};
            for (let i = 0; i < cm.lineCount(); i++) {
                const info = cm.lineInfo(i);
                if ((info.gutterMarkers || {})['draft-gutter']) out[i + 1] = info.text;
            }
            return out;
        }"""
    )


def _audit(engine: Engine) -> list[tuple[str, str, str | None]]:
    query = "SELECT actor, action, detail FROM audit_entry ORDER BY seq"
    with engine.connect() as conn:
        return [(row[0], row[1], row[2]) for row in conn.execute(sa.text(query))]


@pytest.mark.slow
@pytest.mark.parametrize(("width", "height"), SIZES, ids=SIZE_IDS)
def test_a_process_owner_writes_diffs_and_publishes_v3_and_a_case_starts_on_it(
    browser: Any, served: Served, width: int, height: int
) -> None:
    base = served.base
    page = _page(browser, base, width, height)
    try:
        _log_in(page, base, "pia")
        page.get_by_role("link", name="Utkast").first.click()
        page.wait_for_url(base + "/drafts")
        page.get_by_label("Lag et nytt utkast fra").select_option("private_lease@v2")
        page.get_by_role("button", name="Lag utkast").click()
        page.wait_for_url(base + "/drafts/private_lease/3")
        page.wait_for_selector("#preview svg")
        expect(page.locator("#problems-summary")).to_have_text("Ingen problemer.")
        _shot(page, "owner", "new-draft", width)

        # two mistakes: an unknown lane and a flow to an unknown step
        _type_at_end_of(page, "lane: nav", "v")
        _type_at_end_of(page, "{from: sign_sublease, to: move_in}", "")
        page.keyboard.press("ArrowLeft")  # before the closing brace
        page.keyboard.type("n")
        for problem in ("unknown lane 'navv'", "unknown step 'move_inn'"):
            expect(page.locator("#problems")).to_contain_text(problem)
        marked = _marked_lines(page)
        navv = [n for n, text in marked.items() if text.strip() == "lane: navv"]
        inn = [n for n, text in marked.items() if "move_inn" in text]
        assert len(navv) == 1 and len(inn) == 1, marked
        listed = page.locator("#problems").inner_text()
        assert f"Linje {navv[0]}" in listed and f"Linje {inn[0]}" in listed, listed
        assert "siste gyldige" in page.locator("#preview-note").inner_text()
        _shot(page, "owner", "two-mistakes", width)

        # fixed: no problems, no markers, the preview as it stands
        _type_at_end_of(page, "lane: navv", "")
        page.keyboard.press("Backspace")
        _type_at_end_of(page, "to: move_inn}", "")
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("Backspace")
        expect(page.locator("#problems-summary")).to_have_text("Ingen problemer.")
        assert _marked_lines(page) == {}
        assert "slik den står" in page.locator("#preview-note").inner_text()
        assert page.locator("#preview svg").count() == 1
        page.locator("#preview").scroll_into_view_if_needed()
        _shot(page, "owner", "fixed-preview", width)
        page.get_by_role("button", name="Lagre", exact=True).click()
        page.wait_for_url(base + "/drafts/private_lease/3?saved=1")

        # the diff against v2, with the ghost diagram
        page.get_by_role("link", name="Sammenlign med en annen versjon").click()
        page.wait_for_url(re.compile(r"/versions/private_lease/3/diff"))
        expect(page.locator("h1")).to_contain_text("private_lease v3 mot v2")
        assert page.locator("figure.publish-diagram svg").count() == 1
        _fits(page, width)
        _shot(page, "owner", "diff", width)

        # publish, after the confirmation
        page.get_by_role("link", name="Publiser v3 …").click()
        page.wait_for_url(base + "/versions/private_lease/3/publish")
        assert page.get_by_role("table").get_by_text("utkast").count() == 1
        _shot(page, "owner", "confirm", width)
        page.get_by_role("button", name="Publiser v3").click()
        page.wait_for_url(base + "/versions/private_lease/3/diff?done=published")
        assert page.get_by_role("status").inner_text() == "private_lease v3 er publisert."
        _shot(page, "owner", "published", width)
        saved = (served.root / "private_lease" / "v3.yaml").read_text(encoding="utf-8")
        assert "status: published" in saved and "navv" not in saved and "move_inn" not in saved

        # a caseworker starts a case on v3
        _log_in(page, base, "ann")
        page.goto(base + "/cases/new")
        page.get_by_label("Prosess").select_option("private_lease")
        assert "v3" in page.locator("#process option:checked").inner_text()
        page.get_by_label("Versjon (valgfritt)").fill("3")
        page.get_by_label("Saksreferanse").fill(REFERENCE)
        page.get_by_role("button", name="Start saken").click()
        page.wait_for_url(re.compile(r"/cases/[0-9a-f-]+$"))
        expect(page.locator("main")).to_contain_text("private_lease@v3")
        assert REFERENCE not in page.content()
        _shot(page, "owner", "case-on-v3", width)
        case_id = page.url.rsplit("/", 1)[1]
        assert store.get_case(served.engine, case_id).version == 3
        assert page.problems == []
    finally:
        page.close()

    entries = _audit(served.engine)
    assert ("pia", "draft_saved") in {(actor, action) for actor, action, _ in entries}, entries
    assert ("pia", "version_published", "private_lease@v3") in entries, entries
    assert audit.verify(served.engine).intact
