"""The streamed simulation: a cohort's log in slices of whole cases, written to Parquet files and
stored from them, equals the log kept in memory."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy.engine import Engine

from boflyt.analysis.simulation.cohort import (
    simulate_chunk,
    store_chunk_files,
    store_cohort_files,
)
from boflyt.engine.case.decide import compile_flow, replay
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.engine.store import commands as store
from boflyt.engine.store.eventlog import discard_unpublished
from boflyt.engine.store.queries import list_run_sets
from boflyt.models.errors import StoreError

LIBRARY = load_library(Path(__file__).resolve().parents[3] / "processes")
VERSION = LIBRARY.get("refugee_settlement", 1)
WORLD = load_scenario(LIBRARY.scenario_path("refugee_settlement"), lanes=LIBRARY.lanes)


def _streamed(tmp_path: Path, cases: int, rows: int) -> tuple[list[Path], int]:
    paths: list[Path] = []

    def sink(frame: pl.DataFrame) -> None:
        paths.append(tmp_path / f"part-{len(paths):04d}.parquet")
        frame.write_parquet(paths[-1])

    result = simulate_chunk(
        VERSION,
        WORLD,
        cases=cases,
        seed=3,
        chunk=1,
        lanes=LIBRARY.lanes,
        sink=sink,
        slice_rows=rows,
    )
    assert result.events.height == 0
    return paths, result.streamed


def test_slices_hold_whole_cases_and_together_are_the_kept_log(tmp_path: Path) -> None:
    kept = simulate_chunk(VERSION, WORLD, cases=60, seed=3, chunk=1, lanes=LIBRARY.lanes)
    paths, streamed = _streamed(tmp_path, 60, 500)
    parts = [pl.read_parquet(path) for path in paths]
    assert len(parts) > 3
    assert streamed == kept.events.height == sum(part.height for part in parts)
    assert pl.concat(parts).equals(kept.events)
    ids = [set(part["case_id"]) for part in parts]
    assert all(not (a & b) for i, a in enumerate(ids) for b in ids[i + 1 :])  # no case is cut
    assert kept.summary()["events"] == streamed


def test_a_cohort_stored_from_its_files_reads_back_as_kept_and_replayed(
    tmp_path: Path, any_engine: Engine
) -> None:
    kept = simulate_chunk(VERSION, WORLD, cases=30, seed=3, chunk=1, lanes=LIBRARY.lanes)
    paths, _ = _streamed(tmp_path, 30, 400)
    written = store_cohort_files(
        any_engine,
        VERSION,
        paths,
        simulation_id="files",
        scenario=WORLD.name,
        seed=3,
        cases=30,
        lanes=LIBRARY.lanes,
    )
    assert written == kept.events.height
    from_files = store.event_frame(any_engine, simulation_id="files")
    assert from_files.equals(kept.events)
    flow = compile_flow(VERSION, frozenset(x.id for x in LIBRARY.lanes.lanes if x.outside))
    for case_id in kept.events["case_id"].unique(maintain_order=True):
        stored = store.get_case(any_engine, case_id)
        assert stored == replay(flow, store.case_timeline(any_engine, case_id))


def test_a_missing_file_stores_nothing_of_the_cohort(tmp_path: Path, sqlite_engine: Engine) -> None:
    paths, _ = _streamed(tmp_path, 10, 200)
    with pytest.raises((FileNotFoundError, OSError, StoreError)):
        store_cohort_files(
            sqlite_engine,
            VERSION,
            [*paths, tmp_path / "gone.parquet"],
            simulation_id="broken",
            scenario=WORLD.name,
            seed=3,
            cases=10,
        )
    assert store.event_frame(sqlite_engine, simulation_id="broken").height == 0


def test_parts_stored_apart_are_one_run_set_only_once_the_run_row_is_written(
    tmp_path: Path, any_engine: Engine
) -> None:
    kept = simulate_chunk(VERSION, WORLD, cases=30, seed=3, chunk=1, lanes=LIBRARY.lanes)
    paths, _ = _streamed(tmp_path, 30, 400)
    part = store_chunk_files(
        any_engine, VERSION, paths[:2], simulation_id="stored-apart", lanes=LIBRARY.lanes
    )
    assert part < kept.events.height
    assert not [info for info in list_run_sets(any_engine) if info.runs.key == "stored-apart"]
    rest = store_cohort_files(
        any_engine, VERSION, paths[2:], simulation_id="stored-apart", scenario=WORLD.name,
        seed=3, cases=30, lanes=LIBRARY.lanes,
    )  # fmt: skip
    assert part + rest == kept.events.height
    shown = [info.cases for info in list_run_sets(any_engine) if info.runs.key == "stored-apart"]
    assert shown == [30]
    assert store.event_frame(any_engine, simulation_id="stored-apart").equals(kept.events)
    assert discard_unpublished(any_engine, "stored-apart").events == 0  # published: kept
    assert store.event_frame(any_engine, simulation_id="stored-apart").height == kept.events.height


def test_discarding_an_unpublished_run_deletes_its_stored_parts(
    tmp_path: Path, any_engine: Engine
) -> None:
    paths, streamed = _streamed(tmp_path, 20, 300)
    store_chunk_files(any_engine, VERSION, paths, simulation_id="failed-run", lanes=LIBRARY.lanes)
    deleted = discard_unpublished(any_engine, "failed-run")
    assert (deleted.sets, deleted.cases, deleted.events) == (1, 20, streamed)
    assert store.event_frame(any_engine, simulation_id="failed-run").height == 0
