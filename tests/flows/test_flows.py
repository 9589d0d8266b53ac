"""The flows under one session-scoped Prefect test harness (slow: keep these few)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from prefect.blocks.system import Secret

from boflyt.analysis.simulation.cohort import simulate
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import create_schema, make_engine
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.flows.analyse import compare_versions, comparison_markdown
from boflyt.flows.escalate import escalate_overdue
from boflyt.flows.report import report_process, run_set_logs
from boflyt.flows.simulate import simulate_version, summary_path
from boflyt.models.errors import CommandError

ROOT = Path(__file__).resolve().parents[2] / "processes"
pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]  # a Prefect server


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The worker's store, set as BOFLYT_DATABASE_URL; run outside any workspace or checkout."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    for name in ("BOFLYT_HOME", "BOFLYT_DATABASE_URL_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOFLYT_DATABASE_URL", url)
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return url


@pytest.fixture
def places(store_url: str, tmp_path: Path) -> dict[str, str]:
    return {"work_dir": str(tmp_path / "simulations")}


def test_simulate_version_stores_the_same_log_as_the_core(places, store_url: str) -> None:
    simulation_id = asyncio.run(
        simulate_version("refugee_settlement", 1, cases=40, seed=5, chunks=2, **places)
    )
    engine = make_engine(store_url)
    stored = store.event_frame(engine, simulation_id=simulation_id)
    library = load_library(ROOT)
    version = library.get("refugee_settlement", 1)
    world = load_scenario(library.scenario_path("refugee_settlement"), lanes=library.lanes)
    direct = simulate(
        version,
        world,
        cases=40,
        seed=5,
        chunks=2,
        lanes=library.lanes,
        case_prefix=simulation_id[:8],
    )
    assert stored.sort("case_id", "seq").equals(direct.events.sort("case_id", "seq"))
    summary = json.loads(summary_path(places["work_dir"], simulation_id).read_text())
    assert summary == json.loads(json.dumps(direct.summary()))
    assert not list(Path(places["work_dir"], simulation_id).glob("*.parquet"))


def test_compare_versions_simulates_stores_and_compares(places, store_url: str) -> None:
    result = asyncio.run(compare_versions("private_lease", 1, 2, cases=30, seed=1, **places))
    engine = make_engine(store_url)
    for key in ("before_simulation", "after_simulation"):
        frame = store.event_frame(engine, simulation_id=result[key])
        assert frame["case_id"].n_unique() == 30
    rows = {row["key"]: row for row in result["comparison"]["rows"]}
    observed = [row for row in rows.values() if row["source"] == "observed"]
    assert observed and all(row["ci_low"] is not None for row in observed)
    assert rows["expected_handoffs"]["change"] < 0
    assert result["comparison"]["summary"]["en"]
    sets = [result["comparison"]["runs"][side] for side in ("before", "after")]
    assert [(s["run_set"], s["version"], s["cases"], s["seed"]) for s in sets] == [
        ("simulated:1", 1, 30, 1), ("simulated:2", 2, 30, 1)]  # fmt: skip
    assert result["before_runs"] == f"simulated:{result['before_simulation']}"
    assert "Lead time (simulated): " in " ".join(result["comparison"]["summary"]["en"])
    markdown = comparison_markdown(result["comparison"], lang="nb")
    assert "Før: simulert: kjøring 1, frø 1, 30 saker · Etter: simulert: kjøring 2" in markdown
    assert "(observed)" not in markdown and "Observert" not in markdown


def test_the_report_flow_reads_one_run_set_per_version(places, store_url: str, tmp_path) -> None:
    result = asyncio.run(compare_versions("eviction_prevention", 1, 2, cases=20, seed=2,
                                          origin="demo", replace=True, **places))  # fmt: skip
    path = tmp_path / "report.html"
    asyncio.run(report_process("eviction_prevention", 1, 2, str(path), before_runs="simulated:1",
                               after_runs=result["after_runs"], **places_of(places)))  # fmt: skip
    html = path.read_text(encoding="utf-8")
    assert "simulert: kjøring 1, frø 2, 20 saker" in html
    assert "simulert: kjøring 2, frø 2, 20 saker" in html
    versions = tuple(load_library(ROOT).get("eviction_prevention", v) for v in (1, 2))
    with pytest.raises(CommandError, match="simulated:1 is a simulation of eviction_prevention@v1"):
        run_set_logs(make_engine(store_url), versions, ("simulated:1", "simulated:1"))


def places_of(places: dict[str, str]) -> dict[str, str]:
    """The report flow takes no work folder."""
    return {key: value for key, value in places.items() if key != "work_dir"}


def test_escalate_overdue_honours_the_workers_database_url(store_url: str, tmp_path: Path) -> None:
    engine = make_engine(store_url)
    create_schema(engine)
    library = load_library(ROOT)
    version = library.get("private_lease", 1)
    key = ReferenceKey.load_or_create(tmp_path / "reference.key")
    start = dt.datetime(2025, 3, 3, 9, 0)
    store.start_case(
        engine,
        version=version,
        ref="ref-1",
        key=key,
        actor="kari",
        org="nav",
        now=start,
        lanes=library.lanes,
    )
    later = (start + dt.timedelta(days=120)).isoformat()
    count = asyncio.run(escalate_overdue(now=later))
    assert count >= 1
    again = asyncio.run(escalate_overdue(now=later))
    assert again == 0
    escalated = store.event_frame(engine).filter(pl.col("kind") == "step_escalated")
    assert escalated.height == count
    assert not (tmp_path / "data" / "boflyt.db").exists()  # the workspace default is unused


def test_a_secret_block_named_in_the_environment_holds_the_store(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_url = f"sqlite:///{tmp_path / 'secret-store.db'}"
    Secret(value=secret_url).save("boflyt-test-database-url", overwrite=True)
    monkeypatch.setenv("BOFLYT_DATABASE_URL_SECRET", "boflyt-test-database-url")
    assert asyncio.run(escalate_overdue(now="2025-03-03T09:00:00")) == 0
    assert (tmp_path / "secret-store.db").is_file()  # the schema was made there
    assert not (tmp_path / "store.db").exists()  # not in BOFLYT_DATABASE_URL's store


def test_chunks_run_on_a_local_dask_cluster(places, store_url: str) -> None:
    prefect_dask = pytest.importorskip("prefect_dask", reason="prefect-dask is not installed")
    runner = prefect_dask.DaskTaskRunner(
        cluster_kwargs={"n_workers": 1, "threads_per_worker": 2, "processes": False}
    )
    flow = simulate_version.with_options(task_runner=runner)
    simulation_id = asyncio.run(
        flow("eviction_prevention", 1, cases=20, seed=2, chunks=2, **places)
    )
    frame = store.event_frame(make_engine(store_url), simulation_id=simulation_id)
    assert frame["case_id"].n_unique() == 20
