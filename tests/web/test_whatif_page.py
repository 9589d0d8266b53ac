"""The what-if page: the scenario form, its server-side checks, the background job and its page.

Fast tests render the form, refuse bad fields at their fields, render every job state from a
job file, and run a job's runner in this process on the core (no Prefect). Slow tests start the
job from the form as the app does — a subprocess — once on the core and once through the
Prefect flow for real, and wait for the stored run set; the browser test starts a run, watches
the progress bar until it finishes and keeps screenshots.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from boflyt.engine.definition.load import Library
from boflyt.engine.store import accounts
from boflyt.engine.store.queries import list_run_sets
from boflyt.models.scenario import Scenario
from boflyt.models.vocabulary import Role
from boflyt.models.words import word
from boflyt.web import whatif_jobs
from boflyt.web.app import create_app
from tests.web.conftest import MONDAY, PASSWORD, csrf_of, log_in

FORM = "/processes/refugee_settlement/versions/2/whatif"
STAFFED = ("refugee_service", "housing_office", "nav", "property_company", "accounting")
JOB_URL = re.compile(r"/processes/refugee_settlement/versions/2/whatif/jobs/([0-9a-f]{32})$")
SHOTS = Path(os.environ.get("BOFLYT_SHOTS", "/tmp/boflyt-shots"))


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workspace's data folder (where the job files go) in the test's tmp folder."""
    folder = tmp_path / "data"
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def people(web_store) -> None:
    """fia (facilitator), per (process owner) of the housing office."""
    for name, role in (("fia", Role.FACILITATOR), ("per", Role.PROCESS_OWNER)):
        accounts.add_account(web_store[0], username=name, password=PASSWORD,
                             orgs=["housing_office"], roles=[role], now=MONDAY)  # fmt: skip


@pytest.fixture
def fia(client: TestClient, people: None, data_dir: Path) -> TestClient:
    assert log_in(client, "fia").status_code == 303
    return client


def _fields(client: TestClient, **changes: str) -> dict[str, str]:
    values = {"arrivals": "2", "cases": "50", "seed": "3", "name": "two_more",
              **{f"staff_{x}": "2" for x in STAFFED}}  # fmt: skip
    return {**values, **changes, "csrf": csrf_of(client, FORM)}


def _job_file(folder: Path, **changes: Any) -> str:
    job_id = "ab" * 16
    folder.mkdir(parents=True, exist_ok=True)
    job = {"id": job_id, "process": "refugee_settlement", "version": 2, "name": "two_more",
           "cases": 200, "seed": 3, "chunks": 1, "prefect": False, "owner": "fia",
           "state": "running", "done": 50, "created": "2026-01-01T10:00:00+00:00",
           "scenario": {"arrivals_per_week": 2.5, "capacity": {"nav": 3, "records_office": 1}},
           **changes}  # fmt: skip
    whatif_jobs.write_job(folder / f"{job_id}.json", job)
    return job_id


# --------------------------------------------------------------------------- the form


def test_the_form_is_prefilled_from_the_default_scenario(fia: TestClient) -> None:
    html = fia.get(FORM).text
    assert 'name="arrivals" value="2"' in html  # default.yaml: arrivals_per_week: 2
    assert 'id="staff_refugee_service" name="staff_refugee_service" value="2"' in html
    assert 'name="staff_nav" value="1"' in html
    assert "staff_imdi" not in html  # an outside party has no staff
    assert 'name="cases" value="1000"' in html
    assert "Ansatte per organisasjon" in html


def test_process_owner_may_use_it_and_a_caseworker_may_not(client, people, data_dir) -> None:
    log_in(client, "ann")
    refused = client.get(FORM)
    assert refused.status_code == 403
    assert word("role.facilitator", "nb") in refused.text  # names the role it needs
    client.cookies.clear()
    log_in(client, "per")
    assert client.get(FORM).status_code == 200


def test_unknown_version_or_process_is_404(fia: TestClient) -> None:
    assert fia.get("/processes/refugee_settlement/versions/9/whatif").status_code == 404
    assert fia.get("/processes/nope/versions/1/whatif").status_code == 404


def test_english_words(fia: TestClient) -> None:
    fia.get("/language/en?next=/")
    assert "Staff per organisation" in fia.get(FORM).text


BAD_FIELDS = [
    ("arrivals", "0", "større enn 0"),
    ("arrivals", "mange", "større enn 0"),
    ("cases", "20001", "fra 1 til 20"),
    ("cases", "-1", "fra 1 til 20"),
    ("seed", "x", "fra 0 til"),
    ("staff_nav", "0", "fra 1 til"),
    ("name", "Has Spaces", "små bokstaver"),
    ("name", "../etc", "små bokstaver"),
]


def test_a_bad_field_is_refused_at_its_field(fia: TestClient, data_dir: Path) -> None:
    for field, value, message in BAD_FIELDS:
        answer = fia.post(FORM, data=_fields(fia, **{field: value}), follow_redirects=False)
        assert answer.status_code == 422, (field, value)
        pattern = rf'<p class="error" role="alert" id="{field}-error">([^<]*)</p>'
        error = re.search(pattern, answer.text)
        assert error is not None and message in error.group(1), (field, value)
        assert answer.text.count('aria-invalid="true"') == 1, (field, value)
        assert f'id="{field}" name="{field}" value="{value}"' in answer.text.replace("&#39;", "'")
    assert not (data_dir / "whatif").exists() or not list((data_dir / "whatif").iterdir())


def test_decimal_comma_and_the_typed_values_come_back(fia: TestClient) -> None:
    answer = fia.post(FORM, data=_fields(fia, arrivals="2,5", cases="0"))
    assert answer.status_code == 422
    assert 'name="arrivals" value="2,5"' in answer.text
    assert "arrivals-error" not in answer.text


def test_a_post_without_csrf_changes_nothing(fia: TestClient, data_dir: Path) -> None:
    fields = _fields(fia)
    del fields["csrf"]
    assert fia.post(FORM, data=fields).status_code == 403
    assert not (data_dir / "whatif").exists()


def test_no_data_folder_to_write_is_said_on_the_form(fia: TestClient, data_dir: Path) -> None:
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    data_dir.write_text("a file where the data folder should be")
    answer = fia.post(FORM, data=_fields(fia))
    assert answer.status_code == 503
    assert "Simuleringen kunne ikke startes" in answer.text
    assert 'name="name" value="two_more"' in answer.text  # the typed values stay


# --------------------------------------------------------------------------- the job page


def test_a_running_job_polls_and_shows_its_progress(fia: TestClient, data_dir: Path) -> None:
    job = _job_file(data_dir / "whatif")
    page = fia.get(f"{FORM}/jobs/{job}")
    assert page.status_code == 200
    assert '<progress id="whatif-progress" max="100" value="25">' in page.text
    assert "50 av 200 saker simulert" in page.text
    assert f'hx-get="{FORM}/jobs/{job}" hx-trigger="every 2s"' in page.text
    assert "Ansatte: NAV" in page.text and "records_office" not in page.text
    part = fia.get(f"{FORM}/jobs/{job}", headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<section id="whatif-status"')
    assert "<html" not in part.text


def test_a_failed_job_shows_its_error_and_stops_polling(fia: TestClient, data_dir: Path) -> None:
    job = _job_file(data_dir / "whatif", state="failed", error="unknown lane 'navv'")
    page = fia.get(f"{FORM}/jobs/{job}", headers={"HX-Request": "true"}).text
    assert "Simuleringen mislyktes: unknown lane &#39;navv&#39;" in page
    assert "hx-trigger" not in page


def test_a_silent_runner_is_shown_as_failed(fia: TestClient, data_dir: Path) -> None:
    job = _job_file(data_dir / "whatif")
    path = data_dir / "whatif" / f"{job}.json"
    old = dt.datetime.now(dt.UTC) - whatif_jobs.STALE - dt.timedelta(seconds=5)
    path.write_text(json.dumps({**json.loads(path.read_text()), "updated": old.isoformat()}))
    page = fia.get(f"{FORM}/jobs/{job}").text
    assert "stopped answering" in page and "hx-trigger" not in page


def test_a_finished_job_links_to_the_comparison(fia: TestClient, data_dir: Path) -> None:
    job = _job_file(data_dir / "whatif", state="finished", done=200, run_set="simulated:7")
    page = fia.get(f"{FORM}/jobs/{job}").text
    assert "Lagret som simulated:7" in page and 'value="100"' in page
    assert 'href="/processes/refugee_settlement/compare?a=1&amp;b=2&amp;rb=simulated%3A7"' in page
    assert "hx-trigger" not in page


@pytest.mark.parametrize(
    "url",
    [
        f"{FORM}/jobs/{'ab' * 16}",  # no such file
        f"{FORM}/jobs/..%2F..%2Fetc",  # not a job id
        "/processes/private_lease/versions/1/whatif/jobs/" + "ab" * 16,  # another version's
    ],
)
def test_unknown_or_foreign_jobs_are_404(fia: TestClient, data_dir: Path, url: str) -> None:
    if "private_lease" in url:
        _job_file(data_dir / "whatif")
    assert fia.get(url).status_code == 404


# --------------------------------------------------------------------------- the runner


def _queued(library: Library, folder: Path, engine_url: str, *, prefect: bool, cases: int) -> Path:
    """A job file as :func:`whatif_jobs.start_job` leaves it, without starting its runner."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario = Scenario(name="two_more", arrivals_per_week=3, start="2025-01-06",
                        capacity={"refugee_service": 3, "nav": 2})  # fmt: skip
    job_id = "cd" * 16
    whatif_jobs._library_copy(library.root, folder / job_id / "processes", "refugee_settlement",
                              scenario)  # fmt: skip
    path = folder / f"{job_id}.json"
    job = {"id": job_id, "process": "refugee_settlement", "version": 2, "name": "two_more",
           "cases": cases, "seed": 1, "chunks": 1, "prefect": prefect, "owner": "fia",
           "state": "queued", "done": 0, "created": "x",
           "scenario": scenario.model_dump(mode="json")}  # fmt: skip
    whatif_jobs.write_job(path, job)
    return path


def test_the_runner_stores_a_named_run_set(web_store, library, tmp_path, monkeypatch) -> None:
    engine = web_store[0]
    monkeypatch.setenv("BOFLYT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    path = _queued(library, tmp_path / "whatif", str(engine.url), prefect=False, cases=40)
    assert whatif_jobs.run_job(path) == 0
    job = json.loads(path.read_text())
    assert job["state"] == "finished" and job["done"] == 40
    stored = [x for x in list_run_sets(engine, process="refugee_settlement") if x.number]
    assert [(x.name, x.version, x.cases, x.scenario) for x in stored] == [
        (job["run_set"], 2, 40, "two_more")
    ]
    assert not (path.with_suffix("") / "processes").exists()  # the library copy is gone


def test_a_failing_run_is_reported_not_swallowed(web_store, library, tmp_path, monkeypatch):
    monkeypatch.setenv("BOFLYT_DATABASE_URL", str(web_store[0].url))
    path = _queued(library, tmp_path / "whatif", "", prefect=False, cases=10)
    (path.with_suffix("") / "processes" / "refugee_settlement" / "v2.yaml").unlink()
    assert whatif_jobs.run_job(path) == 1
    job = json.loads(path.read_text())
    assert job["state"] == "failed" and "no version 2" in job["error"]


def test_chunks_grow_with_the_cases() -> None:
    assert [whatif_jobs.chunks_for(n) for n in (1, 50, 999, 1000, 5000, 20000)] == [
        1, 1, 1, 1, 5, 8,
    ]  # fmt: skip


# --------------------------------------------------------------------------- end to end


def _wait(client: TestClient, url: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        html = client.get(url, headers={"HX-Request": "true"}).text
        if "hx-trigger" not in html:
            return html
        time.sleep(0.5)
    raise AssertionError(f"the job did not finish in {seconds} s: {html}")


@pytest.mark.slow
@pytest.mark.parametrize("prefect", [False, True], ids=["core", "prefect"])
def test_the_form_starts_a_background_run_that_finishes(
    fia: TestClient, web_store, prefect: bool
) -> None:
    fia.app.state.whatif_prefect = prefect  # type: ignore[attr-defined]
    started = time.monotonic()
    answer = fia.post(FORM, data=_fields(fia), follow_redirects=False)
    assert answer.status_code == 303 and time.monotonic() - started < 2  # not in the request
    match = JOB_URL.search(answer.headers["location"])
    assert match is not None
    html = _wait(fia, answer.headers["location"], 300 if prefect else 120)  # a busy machine
    assert "Ferdig" in html, html
    run_set = re.search(r"Lagret som (simulated:\d+)", html)
    assert run_set is not None
    stored = {x.name: x for x in list_run_sets(web_store[0], process="refugee_settlement")}
    assert stored[run_set.group(1)].cases == 50
    assert stored[run_set.group(1)].scenario == "two_more"


# --------------------------------------------------------------------------- in a browser


@pytest.fixture
def server(web_store, library, config, clock, key, people, data_dir) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(web_store[0], library, config, key=key, clock=clock)
    app.state.whatif_prefect = False
    runner = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    runner.should_exit = True
    thread.join(timeout=10)


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


def _allow(page: Any, base: str) -> None:
    """Let the page reach the app's own address only (every other request is refused)."""

    def guard(route: Any) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            page.refused.append(route.request.url)
            route.abort()

    page.unroute("**/*")
    page.route("**/*", guard)


@pytest.mark.browser
@pytest.mark.slow
def test_a_facilitator_starts_a_run_and_watches_it_finish(server, page_at, tmp_path) -> None:
    for width, height in ((1366, 768), (1920, 1080), (360, 800)):
        page = page_at(width, height)
        _allow(page, server)
        page.goto(server + "/login")
        page.get_by_label("Brukernavn").fill("fia")
        page.get_by_label("Passord").fill(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(server + "/processes")
        page.goto(server + FORM)
        _shot(page, tmp_path, f"13-whatif-form-{width}")
        page.get_by_label("Antall saker").fill("0")
        page.get_by_role("button", name="Start simuleringen").click()
        page.wait_for_selector("#cases-error")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.get_by_label("Antall saker").fill("3000" if width == 1366 else "60")
        page.get_by_label("Navn på kjøringen").fill(f"w{width}")
        page.get_by_role("button", name="Start simuleringen").click()
        page.wait_for_url(re.compile(r".*/whatif/jobs/[0-9a-f]{32}$"))
        if width == 1366:  # 3,000 cases: a few seconds of "Simulerer" with a moving bar
            page.wait_for_selector(".whatif-running, .whatif-storing, .whatif-finished")
            _shot(page, tmp_path, f"13-whatif-running-{width}")
        page.wait_for_selector(".whatif-finished", timeout=120_000)  # htmx polled it
        assert page.locator("progress").get_attribute("value") == "100"
        assert page.get_by_role("link", name=re.compile("med versjon 1")).count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        _shot(page, tmp_path, f"13-whatif-finished-{width}")
        assert not page.refused, page.refused
