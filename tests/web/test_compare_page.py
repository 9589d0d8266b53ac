"""The before/after page: two versions side by side, the comparison, timelines and downloads.

The store of ``tests/web/conftest.py`` holds two live cases of a test process only, so every
shipped process's registered run set is empty: the page shows the design figures and says why
run-based ones are missing. Simulated run sets (real simulations of the shipped versions, stored
as ``boflyt simulate`` stores them) give the run-based rows, their intervals and the overlays.
"""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from boflyt.analysis.compare import compare
from boflyt.analysis.simulation.cohort import simulate, store_cohort
from boflyt.engine.definition.load import Library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.engine.store import accounts
from boflyt.engine.store.queries import describe_run_set
from boflyt.models.runset import RunSet
from boflyt.models.vocabulary import Mode, Role
from boflyt.models.words import format_number, word
from boflyt.web import compare_figures
from tests.web import test_browser
from tests.web.conftest import MONDAY, PASSWORD, log_in
from tests.web.test_browser import SHOTS, _local_page, _shot

PAGE = "/processes/private_lease/compare"
server = test_browser.server
"""The app under uvicorn for the browser tests (the fixture of tests/web/test_browser.py)."""


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """No figure from another test; the cheapest argon2 (this module is not about logins)."""
    compare_figures.clear_cache()
    monkeypatch.setattr(
        accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


def _login(client: TestClient, engine, name: str, role: Role) -> TestClient:
    accounts.add_account(engine, username=name, password=PASSWORD, orgs=["housing_office"],
                         roles=[role], now=MONDAY)  # fmt: skip
    assert log_in(client, name).status_code == 303
    return client


@pytest.fixture
def fay(client: TestClient, web_store) -> TestClient:
    """The client logged in as a facilitator."""
    return _login(client, web_store[0], "fay", Role.FACILITATOR)


def simulated(engine, library: Library, process: str, number: int, cases: int) -> str:
    """Simulate ``cases`` cases of ``process`` v``number`` and store them; the run set's name."""
    version = library.get(process, number)
    scenario = load_scenario(library.scenario_path(process), lanes=library.lanes)
    sim_id = str(uuid.uuid4())
    result = simulate(version, scenario, cases=cases, seed=3, lanes=library.lanes,
                      case_prefix=sim_id[:8])  # fmt: skip
    store_cohort(engine, version, result.events, simulation_id=sim_id, scenario=scenario.name,
                 seed=3, cases=cases, lanes=library.lanes)  # fmt: skip
    info = describe_run_set(engine, RunSet(Mode.SIMULATED, sim_id), process=process,
                            version=number)  # fmt: skip
    return info.name


def _svg(body: bytes) -> ET.Element:
    root = ET.fromstring(body)
    assert root.tag.endswith("svg")
    return root


def test_the_page_shows_the_two_newest_versions_with_their_figures(fay: TestClient) -> None:
    page = fay.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert "v1 → v2" in html
    assert '<option value="1" selected>' in html and '<option value="2" selected>' in html
    for figure in ("before", "after", "ghost", "timeline"):
        assert f"{PAGE}/{figure}.svg?a=1&amp;b=2&amp;ra=live&amp;rb=live" in html
    assert 'data-table="design"' in html and 'data-metric="expected_handoffs"' in html
    # the registered run sets are empty: no run-based figure, and the page says why
    assert 'data-table="observed"' not in html and "overlay-before.svg" not in html
    assert word("web_compare.no_observed", "nb", min_cases=5) in html
    assert html.count(word("web_compare.small", "nb", version="private_lease@v1",
                           runs="registrert", min_cases=5)) == 1  # fmt: skip


def test_the_summary_and_table_are_the_comparison_of_the_cli(fay: TestClient, library) -> None:
    html = fay.get(PAGE, params={"a": "1", "b": "2"}).text
    c = compare(library.get("private_lease", 1), library.get("private_lease", 2),
                lanes=library.lanes)  # fmt: skip
    handoffs = c.row("expected_handoffs")
    assert c.summary("nb")[0] in html
    expected = f"{format_number(handoffs.before, 'nb')} → {format_number(handoffs.after, 'nb')}"
    assert expected in html


def test_any_two_versions_in_either_order_and_in_english(fay: TestClient) -> None:
    fay.get("/language/en?next=/")
    html = fay.get(PAGE, params={"a": "2", "b": "1"}).text
    assert "v2 → v1" in html and "Comparison table" in html
    assert '<html lang="en">' in html


@pytest.mark.parametrize(
    "query, message",
    [
        ({"a": "9"}, "v1, v2"),
        ({"b": "x"}, "«x»"),
        ({"ra": "simulated:99"}, "simulation"),
        ({"rb": "nonsense"}, "nonsense"),
    ],
)
def test_an_unknown_version_or_run_set_is_404_naming_what_exists(
    fay: TestClient, query: dict[str, str], message: str
) -> None:
    page = fay.get(PAGE, params=query)
    assert page.status_code == 404
    assert message in page.text


def test_an_unknown_process_is_404_listing_the_known_ones(fay: TestClient) -> None:
    page = fay.get("/processes/no<b>such/compare")
    assert page.status_code == 404
    assert "private_lease" in page.text and "no<b>such" not in page.text


def test_the_diagrams_download_as_svg(fay: TestClient) -> None:
    bodies = {}
    for figure in ("before", "after", "ghost", "timeline"):
        got = fay.get(f"{PAGE}/{figure}.svg", params={"a": "1", "b": "2"})
        assert got.status_code == 200 and got.headers["content-type"] == "image/svg+xml"
        assert f'filename="private_lease-v1-v2-{figure}.svg"' in got.headers["content-disposition"]
        _svg(got.content)
        bodies[figure] = got.content
    assert len(set(bodies.values())) == 4
    missing = fay.get(f"{PAGE}/overlay-before.svg")
    assert missing.status_code == 404 and "5" in missing.text


def test_the_table_downloads_as_csv_with_raw_numbers(fay: TestClient, library) -> None:
    got = fay.get(f"{PAGE}/table.csv", params={"a": "1", "b": "2"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    c = compare(library.get("private_lease", 1), library.get("private_lease", 2),
                lanes=library.lanes)  # fmt: skip
    by_key = {row["metric"]: row for row in rows}
    assert set(by_key) == {r.key for r in c.rows}
    handoffs = by_key["expected_handoffs"]
    assert float(handoffs["before"]) == pytest.approx(c.row("expected_handoffs").before)
    assert float(handoffs["after"]) == pytest.approx(c.row("expected_handoffs").after)
    assert {row["source"] for row in rows} == {"design"}


def test_the_report_downloads_print_ready_in_a4_landscape(fay: TestClient) -> None:
    got = fay.get(f"{PAGE}/report.html", params={"a": "1", "b": "2"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/html")
    assert "attachment" in got.headers["content-disposition"]
    assert "@page { size: A4 landscape" in got.text
    assert "private_lease@v1" in got.text and "private_lease@v2" in got.text


def test_a_caseworker_may_read_the_page(client: TestClient) -> None:
    assert log_in(client, "ann").status_code == 303
    assert client.get(PAGE).status_code == 200


def test_run_sets_of_both_versions_give_intervals_and_overlays(
    fay: TestClient, web_store, library
) -> None:
    engine = web_store[0]
    ra = simulated(engine, library, "private_lease", 1, 40)
    rb = simulated(engine, library, "private_lease", 2, 40)
    query = {"a": "1", "b": "2", "ra": ra, "rb": rb}
    html = fay.get(PAGE, params=query).text
    assert f'<option value="{ra}" selected>' in html and f'<option value="{rb}" selected>' in html
    assert 'data-table="observed"' in html and 'data-ci="' in html
    assert "overlay-before.svg" in html and "overlay-after.svg" in html
    for figure in ("overlay-before", "overlay-after"):
        _svg(fay.get(f"{PAGE}/{figure}.svg", params=query).content)
    rows = list(csv.DictReader(io.StringIO(fay.get(f"{PAGE}/table.csv", params=query).text)))
    observed = [row for row in rows if row["source"] == "observed"]
    assert observed and all(row["runs_before"].startswith("simulert") for row in observed)
    assert any(row["ci_low"] and float(row["ci_low"]) <= float(row["ci_high"]) for row in observed)


def test_a_run_set_under_five_cases_is_not_shown(fay: TestClient, web_store, library) -> None:
    engine = web_store[0]
    ra = simulated(engine, library, "private_lease", 1, 4)
    rb = simulated(engine, library, "private_lease", 2, 40)
    query = {"a": "1", "b": "2", "ra": ra, "rb": rb}
    html = fay.get(PAGE, params=query).text
    assert 'data-table="observed"' not in html and "overlay-after.svg" not in html
    assert "færre enn 5 saker" in html
    rows = list(csv.DictReader(io.StringIO(fay.get(f"{PAGE}/table.csv", params=query).text)))
    assert {row["source"] for row in rows} == {"design"}


def test_a_simulation_of_another_version_is_refused(fay: TestClient, web_store, library) -> None:
    rb = simulated(web_store[0], library, "private_lease", 2, 5)
    page = fay.get(PAGE, params={"a": "1", "b": "2", "ra": rb})
    assert page.status_code == 404


def test_figures_are_rendered_once_per_pair(
    fay: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    render = compare_figures._render_design

    def counting(*args, **kwargs):
        calls.append(1)
        return render(*args, **kwargs)

    monkeypatch.setattr(compare_figures, "_render_design", counting)
    for _ in range(3):
        assert fay.get(PAGE).status_code == 200
        assert fay.get(f"{PAGE}/ghost.svg").status_code == 200
    assert len(calls) == 1
    fay.get("/language/en?next=/")
    assert fay.get(PAGE).status_code == 200
    assert len(calls) == 2  # another language is another render


# --------------------------------------------------------------------------- in a real browser

SEEDS = ("private_lease", "eviction_prevention", "refugee_settlement")


def _log_in_fay(page, base: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Brukernavn").fill("fay")
    page.get_by_label("Passord").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/processes$"))


@pytest.mark.browser
@pytest.mark.parametrize("process", SEEDS)
def test_a_facilitator_compares_v1_and_v2_in_the_browser(
    browser, server: str, web_store, library, tmp_path, process: str
) -> None:
    """Before/after of each seed process with simulated run sets, at 1366×768, 1920×1080 and
    360 px: every diagram loads from the app alone, nothing is wider than the window, and the
    choice form works by keyboard."""
    engine = web_store[0]
    accounts.add_account(engine, username="fay", password=PASSWORD, orgs=["housing_office"],
                         roles=[Role.FACILITATOR], now=MONDAY)  # fmt: skip
    ra = simulated(engine, library, process, 1, 60)
    rb = simulated(engine, library, process, 2, 60)
    query = f"a=1&b=2&ra={ra}&rb={rb}"
    for width, height in ((1366, 768), (1920, 1080), (360, 740)):
        page = _local_page(browser, server, width)
        page.set_viewport_size({"width": width, "height": height})
        _log_in_fay(page, server)
        page.goto(f"{server}/processes/{process}/compare?{query}")
        page.wait_for_load_state("networkidle")
        images = page.locator(".cmp-scroll img")
        assert images.count() == 7  # before, after, ghost, timeline, measured timeline, overlays
        loaded = page.evaluate(
            "[...document.querySelectorAll('.cmp-scroll img')].map(i => i.naturalWidth)"
        )
        assert all(w > 0 for w in loaded), loaded
        assert page.refused == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        _shot(page, tmp_path, f"13-compare-{process}-{width}x{height}")
        page.screenshot(path=str(SHOTS / f"13-compare-{process}-{width}x{height}-top.png"))
        page.close()
    # by keyboard: choose v2 → v1 and show it
    page = _local_page(browser, server, 1366)
    _log_in_fay(page, server)
    page.goto(f"{server}/processes/{process}/compare")
    page.locator("#cmp-a").focus()
    page.keyboard.press("ArrowDown")
    page.locator("#cmp-b").focus()
    page.keyboard.press("ArrowUp")
    page.get_by_role("button", name="Vis").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"a=2&b=1"))
    assert "v2 → v1" in page.locator("h1").inner_text()
    page.close()


def test_concurrent_requests_for_a_new_pair_compute_it_once(
    web_store, library, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = web_store[0]
    made: list[int] = []
    compute = compare_figures._figures

    def slow(*args, **kwargs):
        made.append(1)
        time.sleep(0.2)  # the other threads arrive while it computes
        return compute(*args, **kwargs)

    monkeypatch.setattr(compare_figures, "_figures", slow)
    v1, v2 = library.get("eviction_prevention", 1), library.get("eviction_prevention", 2)
    pair = compare_figures.pair_of(engine, v1, v2, (RunSet.live(), RunSet.live()))
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda _: compare_figures.figures(engine, pair, library.lanes, "nb"),
                              range(4)))  # fmt: skip
    assert len(made) == 1 and all(f is found[0] for f in found)
