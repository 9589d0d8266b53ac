"""The simulation flow with its chunk tasks in Dask worker processes (slow: spawns a cluster)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from boflyt.analysis.simulation.cohort import simulate
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.engine.store import commands as store
from boflyt.engine.store.db import make_engine
from boflyt.engine.store.eventlog import DeletedRuns, discard_unpublished
from boflyt.engine.store.queries import list_run_sets
from boflyt.flows.simulate import simulate_version
from tests.fixtures.store import fresh_pg_database

ROOT = Path(__file__).resolve().parents[2] / "processes"
pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]


def test_chunks_in_worker_processes_store_the_core_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_store_url: str
) -> None:
    """On PostgreSQL each worker stores its own chunks; the store task writes the run row."""
    prefect_dask = pytest.importorskip("prefect_dask", reason="prefect-dask is not installed")
    url = empty_store_url
    for name in ("BOFLYT_HOME", "BOFLYT_DATABASE_URL_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOFLYT_DATABASE_URL", url)  # the workers inherit it
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    runner = prefect_dask.DaskTaskRunner(
        cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True,
                        "dashboard_address": None}
    )  # fmt: skip
    flow = simulate_version.with_options(task_runner=runner)
    work = str(tmp_path / "simulations")
    simulation_id = asyncio.run(
        flow("refugee_settlement", 1, cases=30, seed=4, chunks=3, work_dir=work)
    )
    stored = store.event_frame(make_engine(url), simulation_id=simulation_id)
    library = load_library(ROOT)
    world = load_scenario(library.scenario_path("refugee_settlement"), lanes=library.lanes)
    direct = simulate(library.get("refugee_settlement", 1), world, cases=30, seed=4, chunks=3,
                      lanes=library.lanes, case_prefix=simulation_id[:8])  # fmt: skip
    assert stored.equals(direct.events)
    runs = list_run_sets(make_engine(url))
    assert [(info.runs.key, info.cases) for info in runs] == [(simulation_id, 30)]
    assert not list(Path(work, simulation_id).glob("*.parquet"))  # chunk files removed


@pytest.mark.postgres
def test_a_run_that_fails_after_its_chunks_were_stored_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_store_url: str
) -> None:
    """The chunk tasks store their rows on PostgreSQL; the store task fails; the rows go."""
    from boflyt.flows import simulate as module

    @module.task(name="store-simulation")
    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the store task failed")

    discarded: list[int] = []

    def discard(engine: Engine, simulation_id: str) -> DeletedRuns:
        deleted = discard_unpublished(engine, simulation_id)
        discarded.append(deleted.events)
        return deleted

    for name in ("BOFLYT_HOME", "BOFLYT_DATABASE_URL_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOFLYT_DATABASE_URL", pg_store_url)
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(module, "store_parts", fail)
    monkeypatch.setattr(module, "discard_unpublished", discard)
    with pytest.raises(RuntimeError, match="the store task failed"):
        flow = simulate_version("refugee_settlement", 1, cases=20, seed=4, chunks=2,
                                work_dir=str(tmp_path), simulation_id="failing-run")  # fmt: skip
        asyncio.run(flow)
    assert discarded and discarded[0] > 0  # the chunks had stored their events
    assert store.event_frame(make_engine(pg_store_url), simulation_id="failing-run").height == 0


@pytest.fixture
def pg_store_url() -> Iterator[str]:
    with fresh_pg_database() as url:
        yield url
