"""The KPI trends page over registered cases that span five months.

The library holds one process, ``test_process`` (:func:`tests.factories.linear_version`): v1
published 2025-01-01 and v2 published 2025-03-10. Registered cases, each finished two to four
working days after its start (housing office → NAV, one handoff; see ``trend_db``): six in
January on v1, three in February (fewer than five: suppressed), six in March, five each in April
and May on v2. One more case is left running.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from boflyt.engine.definition.load import Library, load_library
from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import make_engine, open_schema
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.definition import Version
from boflyt.models.vocabulary import Role
from boflyt.web import trends_page
from boflyt.web.app import WebConfig, create_app
from boflyt.workspace import shipped_library
from tests.factories import linear_version
from tests.web.conftest import PASSWORD, Clock, log_in

V1 = linear_version()
V2 = V1.model_copy(update={"version": 2, "date": dt.date(2025, 3, 10)})
NOW = dt.datetime(2025, 6, 2, 9)
REF_PREFIX = "0101701"  # references look like a fødselsnummer: never on the page


def finish_case(engine: Engine, key: ReferenceKey, version: Version, start: dt.datetime,
                n: int, library: Library, *, days: int = 2, finish: bool = True
                ) -> None:  # fmt: skip
    """Start a case at ``start`` (a Monday) and (``finish``) complete a the next day and b
    ``days`` days after the start: its lead time is ``days`` working days, its wait after the
    handoff ``days - 1``."""
    given = {"key": key, "actor": "ann", "org": "housing_office", "lanes": library.lanes}
    ref = f"{REF_PREFIX}{n:04d}"
    case = store.start_case(engine, version=version, ref=ref, now=start, clock=lambda: NOW,
                            **given)  # fmt: skip
    if not finish:
        return
    day = dt.timedelta(days=1)
    store.complete_step(engine, case_id=case.case_id, step="a", actor="ann", org="housing_office",
                        now=start + day, clock=lambda: NOW, touch_minutes=30)  # fmt: skip
    store.complete_step(engine, case_id=case.case_id, step="b", actor="bo", org="nav",
                        now=start + days * day, clock=lambda: NOW, touch_minutes=60)  # fmt: skip


@pytest.fixture(scope="module")
def shipped() -> Library:
    return load_library(shipped_library())


@pytest.fixture
def trend_library(shipped: Library) -> Library:
    return Library(shipped.root, shipped.lanes, by_process={"test_process": (V1, V2)})


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> ReferenceKey:
    return ReferenceKey.load_or_create(tmp_path_factory.mktemp("keys") / "reference.key")


@pytest.fixture(scope="module")
def trend_db(tmp_path_factory: pytest.TempPathFactory, key: ReferenceKey, shipped: Library
             ) -> Path:  # fmt: skip
    """The store of the module doc, built once; each test works on a copy."""
    path = tmp_path_factory.mktemp("trends") / "boflyt.db"
    engine = make_engine(f"sqlite:///{path}")
    open_schema(engine)
    library = Library(shipped.root, shipped.lanes, by_process={"test_process": (V1, V2)})
    for name, org, role in (("ann", "housing_office", Role.CASEWORKER),
                            ("bo", "nav", Role.CASEWORKER),
                            ("fay", "housing_office", Role.FACILITATOR),
                            ("pat", "housing_office", Role.PROCESS_OWNER)):  # fmt: skip
        accounts.add_account(engine, username=name, password=PASSWORD, orgs=[org], roles=[role],
                             now=dt.datetime(2025, 1, 1))  # fmt: skip
    months = ((dt.datetime(2025, 1, 6, 9), [2, 3, 3, 4, 4, 4], V1),
              (dt.datetime(2025, 2, 3, 9), [3, 3, 3], V1),
              (dt.datetime(2025, 3, 17, 9), [2] * 6, V2),
              (dt.datetime(2025, 4, 7, 9), [2] * 5, V2),
              (dt.datetime(2025, 5, 5, 9), [2, 2, 2, 3, 3], V2))  # fmt: skip
    n = 0
    for monday, leads, version in months:
        for i, days in enumerate(leads):
            n += 1
            start = monday + dt.timedelta(minutes=10 * i)
            finish_case(engine, key, version, start, n, library, days=days)
    finish_case(engine, key, V2, dt.datetime(2025, 3, 24, 9), 99, library, finish=False)
    engine.dispose()
    return path


@pytest.fixture
def trend_store(trend_db: Path, tmp_path: Path) -> Iterator[Engine]:
    copy = tmp_path / "boflyt.db"
    shutil.copyfile(trend_db, copy)
    engine = make_engine(f"sqlite:///{copy}")
    yield engine
    engine.dispose()


def make_client(engine: Engine, library: Library, key: ReferenceKey, **config: int) -> TestClient:
    app = create_app(engine, library, WebConfig(secret=b"s" * 32, **config), key=key,
                     clock=Clock(NOW))  # fmt: skip
    return TestClient(app, base_url="http://testserver")


@pytest.fixture
def facilitator(trend_store: Engine, trend_library: Library, key: ReferenceKey
                ) -> Iterator[TestClient]:  # fmt: skip
    with make_client(trend_store, trend_library, key) as client:
        assert log_in(client, "fay").status_code == 303
        yield client


def cells(html: str, month: str) -> list[str]:
    """The cells of the main table's row headed ``month``."""
    row = html.split(f'<th scope="row">{month}</th>', 1)[1].split("</tr>", 1)[0]
    return [cell.split(">", 1)[1] for cell in row.split("</td>")[:-1]]


def test_the_index_lists_the_processes(facilitator: TestClient) -> None:
    html = facilitator.get("/trends").text
    assert '<a href="/trends/test_process">test_process</a>' in html


def test_each_month_shows_its_figures_and_a_small_month_shows_dashes(
    facilitator: TestClient,
) -> None:
    html = facilitator.get("/trends/test_process").text
    assert cells(html, "jan. 2025") == ["6", "3,5", "4,0", "1,0", "90", "v1"]
    assert cells(html, "feb. 2025") == ["–"] * 6
    assert cells(html, "mars 2025") == ["6", "2,0", "2,0", "1,0", "90", "v2"]
    assert "– betyr færre enn 5 saker" in html


def test_the_waits_per_organisation_pair_are_a_table(facilitator: TestClient) -> None:
    html = facilitator.get("/trends/test_process").text
    waits = html.split('id="trend-waits-c"', 1)[1]
    assert '<th scope="col" class="num">Boligkontoret → NAV-kontoret</th>' in waits
    assert '<th scope="row">jan. 2025</th><td class="num">2,5</td>' in waits
    assert '<th scope="row">feb. 2025</th><td class="num">–</td>' in waits


def test_the_charts_leave_the_small_month_out_and_mark_v2(facilitator: TestClient) -> None:
    html = facilitator.get("/trends/test_process").text
    assert html.count('<svg class="trend-chart"') == 4
    lead = html.split('<svg class="trend-chart"', 2)[1]
    assert lead.count("<polyline") == 2 * 2  # median and p90, each broken at February
    assert lead.count("<circle") == 4  # the median's points: January, March, April, May
    assert ">v2</text>" in lead and ">v1</text>" in lead
    assert "v2 publisert 2025-03-10" in html


def test_no_case_reference_is_shown(facilitator: TestClient) -> None:
    html = facilitator.get("/trends/test_process").text
    csv_body = facilitator.get("/trends/test_process/trends.csv").text
    assert REF_PREFIX not in html and REF_PREFIX not in csv_body


def test_the_csv_holds_the_same_figures_and_no_small_count(facilitator: TestClient) -> None:
    response = facilitator.get("/trends/test_process/trends.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "test_process-trends.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    jan = {r["figure"]: r for r in rows if r["month"] == "2025-01" and not r["from_org"]}
    assert jan["lead_median_days"]["value"] == "3.5" and jan["lead_median_days"]["cases"] == "6"
    feb = [r for r in rows if r["month"] == "2025-02"]
    assert feb and all(r["value"] == "" and r["cases"] == "" for r in feb)
    assert all(r["note"] == "suppressed: fewer than 5 cases" for r in feb)
    pair = [r for r in rows if r["figure"] == "wait_median_days" and r["month"] == "2025-03"]
    assert [(r["from_org"], r["to_org"], r["value"]) for r in pair] == [
        ("housing_office", "nav", "1.0")
    ]


def test_the_minimum_cell_size_comes_from_the_config(
    trend_store: Engine, trend_library: Library, key: ReferenceKey
) -> None:
    with make_client(trend_store, trend_library, key, min_cell=3) as client:
        log_in(client, "pat")
        html = client.get("/trends/test_process").text
    assert cells(html, "feb. 2025")[0] == "3"
    assert "betyr færre enn" not in html


def test_the_analysis_is_cached_until_the_live_log_grows(
    facilitator: TestClient, trend_store: Engine, trend_library: Library, key: ReferenceKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    calls: list[int] = []
    real = trends_page.monthly_trends
    monkeypatch.setattr(
        trends_page, "monthly_trends", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    for _ in range(3):
        facilitator.get("/trends/test_process")
    facilitator.get("/trends/test_process/trends.csv")
    assert len(calls) == 1
    for i in range(2):  # February now has five cases
        finish_case(trend_store, key, V1, dt.datetime(2025, 2, 10, 9 + i), 200 + i, trend_library)
    html = facilitator.get("/trends/test_process").text
    assert len(calls) == 2
    assert cells(html, "feb. 2025")[0] == "5"


def test_english_words(facilitator: TestClient) -> None:
    facilitator.get("/language/en?next=/trends")
    html = facilitator.get("/trends/test_process").text
    assert "Trends: test_process" in html and cells(html, "Jan 2025")[1] == "3.5"
    assert "– means fewer than 5 cases" in html


def test_a_process_without_finished_cases_says_so(
    trend_store: Engine, shipped: Library, key: ReferenceKey
) -> None:
    with make_client(trend_store, shipped, key) as client:
        log_in(client, "fay")
        html = client.get("/trends/private_lease").text
    assert "Ingen registrerte saker i denne prosessen er avsluttet ennå." in html
    assert "<svg" not in html


def test_an_unknown_process_is_404_naming_the_known_ones(facilitator: TestClient) -> None:
    response = facilitator.get("/trends/<script>x")
    assert response.status_code == 404
    assert "Kjente prosesser: test_process" in response.text and "<script>x" not in response.text
