"""The ``simulate_version`` flow: simulate a version in chunks, store the cohort, summarise.

Each chunk is an independent replication run by one task (:func:`simulate_part`), which streams
its event log to Parquet files in the work directory (slices of whole cases, written while the
log is expanded, so no task holds its chunk's whole table) and returns only the files' paths and
a few numbers. On PostgreSQL each chunk task then stores its own files in a transaction of its
own (:func:`boflyt.analysis.simulation.cohort.store_chunk_files`: the workers ``COPY`` in
parallel), rows no run set shows yet; the store task (with retries) writes the run row last,
with any files not yet stored (all of them on SQLite, one writer at a time), through
:func:`boflyt.analysis.simulation.cohort.store_cohort_files`: the cohort appears as the run set
``simulated:<number>`` (:mod:`boflyt.models.runset`) at once or not at all, and a failed run's
stored chunks are deleted. No task gathers the chunks' events: memory per process is one
chunk's event loop or one file, however many cases the run has.
The same chunking gives the same log as :func:`boflyt.analysis.simulation.cohort.simulate` with
``chunks=``.
Run the chunk tasks in worker processes with ``simulate_version.with_options(task_runner=
DaskTaskRunner(cluster_kwargs={"n_workers": 2, "processes": True, "threads_per_worker": 1}))``
(prefect-dask), or on a Dask cluster of several machines with ``DaskTaskRunner(address=...)``
(the work directory must then be shared by the workers): see the simulation guide.

The store is never a parameter: the store task opens it with :func:`boflyt.flows.store.open_store`
(a Prefect Secret block named by ``BOFLYT_DATABASE_URL_SECRET``, else the worker's
``BOFLYT_DATABASE_URL`` or workspace). ``processes_dir`` and ``work_dir`` default to the worker's
workspace and are resolved once in the flow, so chunk tasks on other machines get the same paths.
"""

from __future__ import annotations

import json
import resource
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from prefect import flow, task
from prefect.artifacts import acreate_table_artifact

from boflyt.analysis.simulation.cohort import (
    chunk_size,
    simulate_chunk,
    store_chunk_files,
    store_cohort_files,
)
from boflyt.analysis.simulation.series import summarise
from boflyt.engine.definition.load import Library, load_library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.engine.store.eventlog import discard_unpublished
from boflyt.engine.store.queries import describe_run_set
from boflyt.flows import processes_or_default, work_dir_or_default
from boflyt.flows.store import flow_workspace, open_store
from boflyt.models.definition import Version
from boflyt.models.runset import RunSet, SimulationOrigin
from boflyt.models.scenario import Scenario

__all__ = [
    "discard_parts",
    "peak_rss_mb",
    "publish_summary",
    "remove_chunks",
    "simulate_and_store",
    "simulate_part",
    "simulate_version",
    "store_own_part",
    "store_parts",
    "summarise_parts",
    "summary_path",
]


def _load(
    processes_dir: str | None, process: str, version: int | None, scenario: str
) -> tuple[Library, Version, Scenario]:
    library = load_library(processes_or_default(processes_dir))
    chosen = library.get(process, version)
    path = library.scenario_path(process, scenario)
    return library, chosen, load_scenario(path, version=chosen, lanes=library.lanes)


@task(name="simulate-chunk")
def simulate_part(
    process: str,
    version: int,
    scenario: str,
    *,
    cases: int,
    seed: int,
    chunk: int,
    out_dir: str,
    case_prefix: str,
    processes_dir: str | None = None,
    simulation_id: str | None = None,
) -> dict[str, Any]:
    """Simulate one replication, writing its events as it goes to Parquet files of about
    :data:`~boflyt.analysis.simulation.log.SLICE_ROWS` events (whole cases each) and its lead
    times to one more; return the paths and a few numbers, never the log.

    ``events`` is a glob of the event files (``pl.read_parquet`` reads it whole), ``files``
    lists them; ``peak_rss_mb`` is the peak memory of the process that ran it. With
    ``simulation_id`` and a PostgreSQL store the task also stores its files, in a transaction
    of its own that does not make the cohort visible (:func:`store_own_part`); ``stored`` is
    then the events it stored (else ``None``), and :func:`store_parts` writes only the rest.
    """
    library, chosen, world = _load(processes_dir, process, version, scenario)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{process}-v{version}-chunk{chunk}"
    files: list[str] = []

    def write(frame: pl.DataFrame) -> None:
        files.append(str(folder / f"{stem}-events-{len(files):04d}.parquet"))
        frame.write_parquet(files[-1], compression="lz4", statistics=False)

    result = simulate_chunk(
        chosen,
        world,
        cases=cases,
        seed=seed,
        chunk=chunk,
        lanes=library.lanes,
        case_prefix=case_prefix,
        sink=write,
    )
    leads_path = folder / f"{stem}-leads.parquet"
    pl.DataFrame({"lead_time_days": result.lead_times}).write_parquet(leads_path)
    return {
        "events": str(folder / f"{stem}-events-*.parquet"),
        "files": files,
        "stored": store_own_part(chosen, files, simulation_id, library),
        "leads": str(leads_path),
        "cases": result.cases,
        "rows": result.streamed,
        "busy_minutes": result.busy_minutes,
        "capacity_minutes": result.capacity_minutes,
        "peak_rss_mb": peak_rss_mb(),
    }


def store_own_part(
    version: Version, files: list[str], simulation_id: str | None, library: Library
) -> int | None:
    """Store a chunk's files in the worker that wrote them, when the store is PostgreSQL
    (:func:`~boflyt.analysis.simulation.cohort.store_chunk_files`: its own ``COPY``
    transaction, in parallel with the other workers'); return the events stored, or ``None``
    when it did not (no ``simulation_id``, or SQLite, which has one writer at a time and gets
    every file from :func:`store_parts` instead)."""
    workspace = flow_workspace()
    if simulation_id is None or not workspace.database_url.startswith("postgresql"):
        return None  # a SQLite store is not even opened: one process creates its schema
    engine = workspace.open_store()
    try:
        return store_chunk_files(
            engine, version, files, simulation_id=simulation_id, lanes=library.lanes
        )
    finally:
        engine.dispose()


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@task(name="summarise-simulation")
def summarise_parts(parts: list[dict[str, Any]], summary_file: str) -> dict[str, Any]:
    """Lead times and utilisation over every chunk; also written to ``summary_file``."""
    leads = np.concatenate(
        [pl.read_parquet(p["leads"])["lead_time_days"].to_numpy() for p in parts]
    )
    lanes = parts[0]["capacity_minutes"]
    summary = summarise(
        leads,
        {lane: sum(p["busy_minutes"][lane] for p in parts) for lane in lanes},
        {lane: sum(p["capacity_minutes"][lane] for p in parts) for lane in lanes},
        events=sum(p["rows"] for p in parts),
    )
    Path(summary_file).parent.mkdir(parents=True, exist_ok=True)
    Path(summary_file).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


@task(name="store-simulation", retries=3, retry_delay_seconds=2)
def store_parts(
    simulation_id: str,
    process: str,
    version: int,
    scenario: str,
    *,
    seed: int,
    cases: int,
    parts: list[dict[str, Any]],
    processes_dir: str | None = None,
    origin: str = SimulationOrigin.SIMULATE.value,
    replace: bool = False,
) -> dict[str, Any]:
    """Make the cohort one simulation run: bulk-insert the files the chunk tasks did not store
    themselves (a file at a time, so memory is bounded by one file: ``COPY`` on PostgreSQL)
    and the run row, numbered, in one transaction; return the stored run set
    (:meth:`~boflyt.models.runset.RunSetInfo.as_dict`, with its run number), ``events``, the
    number of events in it, and ``peak_rss_mb``. With ``replace`` the earlier simulations of
    this version and ``origin`` go in the same transaction (the demo keeps one per version).
    The run row commits last: until it does, no run set shows the chunks' rows.

    The store comes from the worker (:func:`boflyt.flows.store.open_store`), never a parameter.
    """
    library, chosen, _ = _load(processes_dir, process, version, scenario)
    files = [path for part in parts if part.get("stored") is None for path in part["files"]]
    earlier = sum(part.get("stored") or 0 for part in parts)
    engine = open_store()
    try:
        written = store_cohort_files(
            engine, chosen, files, simulation_id=simulation_id, scenario=scenario, seed=seed,
            cases=cases, lanes=library.lanes, origin=SimulationOrigin(origin), replace=replace,
        )  # fmt: skip
        stored = describe_run_set(
            engine, RunSet.simulation(simulation_id), process=process, version=version
        )
    finally:
        engine.dispose()
    return {**stored.as_dict(), "events": earlier + written, "peak_rss_mb": peak_rss_mb()}


@task(name="discard-simulation")
def discard_parts(simulation_id: str) -> int:
    """Delete what chunk tasks of a failed run stored (never a run that has its run row);
    return the events deleted."""
    engine = open_store()
    try:
        return discard_unpublished(engine, simulation_id).events
    finally:
        engine.dispose()


def summary_path(work_dir: str | None, simulation_id: str) -> Path:
    """Where :func:`simulate_version` leaves the run's summary (JSON)."""
    return work_dir_or_default(work_dir) / simulation_id / "summary.json"


def simulate_and_store(
    simulation_id: str,
    process: str,
    version: int,
    scenario: str,
    *,
    cases: int,
    seed: int,
    chunks: int,
    processes_dir: str | None,
    work_dir: str | None,
    origin: str = SimulationOrigin.SIMULATE.value,
    replace: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Run one :func:`simulate_part` per chunk on the flow's task runner, then the summary and
    the store on it too (on a Dask cluster, in worker processes: the flow's own process never
    reads an event); return the parts, the summary and the stored run set (:func:`store_parts`).

    On PostgreSQL each chunk task stores its own files (the workers ``COPY`` in parallel) and
    the store task writes the run row last; if any task fails, what the chunks stored is
    deleted (:func:`discard_parts`) before the error is raised. Unset folders are the
    workspace's, resolved here once for every task. The chunk files stay until the caller is
    done with them (:func:`remove_chunks`).
    """
    processes_dir = str(processes_or_default(processes_dir))
    work_dir = str(work_dir_or_default(work_dir))
    count = max(1, min(chunks, cases))
    chunk = partial(simulate_part.submit, process, version, scenario, seed=seed,
                    out_dir=str(Path(work_dir) / simulation_id), case_prefix=simulation_id[:8],
                    processes_dir=processes_dir, simulation_id=simulation_id)  # fmt: skip
    futures = [chunk(cases=chunk_size(cases, count, i), chunk=i) for i in range(count)]
    try:
        parts = [future.result() for future in futures]
        summary = summarise_parts.submit(parts, str(summary_path(work_dir, simulation_id)))
        stored = store_parts.submit(
            simulation_id, process, version, scenario, seed=seed, cases=cases, parts=parts,
            processes_dir=processes_dir, origin=origin, replace=replace,
        )  # fmt: skip
        return parts, summary.result(), stored.result()
    except Exception:
        for future in futures:
            future.wait()  # no chunk still storing while its rows are deleted
        discard_parts.submit(simulation_id).result()
        raise


@flow(name="simulate-version")
async def simulate_version(
    process: str,
    version: int | None = None,
    scenario: str = "default",
    cases: int = 1000,
    seed: int = 0,
    chunks: int = 1,
    processes_dir: str | None = None,
    work_dir: str | None = None,
    simulation_id: str | None = None,
) -> str:
    """Simulate ``cases`` cases of ``process`` v``version`` (newest published when ``None``)
    under ``scenario``; store them as one run set; return the simulation id.

    The summary (cases, lead time mean/median/p90 in working days, utilisation per
    organisation) is published as a table artifact and left at :func:`summary_path`.
    ``simulation_id`` lets a caller name the run (a UUID by default) to follow its chunks.
    The store is the worker's (:func:`boflyt.flows.store.open_store`); ``processes_dir`` and
    ``work_dir`` default to the worker's workspace.
    """
    _, chosen, _ = _load(processes_dir, process, version, scenario)
    simulation_id = simulation_id or str(uuid.uuid4())
    parts, summary, _ = simulate_and_store(
        simulation_id,
        process,
        chosen.version,
        scenario,
        cases=cases,
        seed=seed,
        chunks=chunks,
        processes_dir=processes_dir,
        work_dir=work_dir,
    )
    await publish_summary(simulation_id, chosen, scenario, summary)
    remove_chunks(parts)
    return simulation_id


async def publish_summary(
    simulation_id: str, version: Version, scenario: str, summary: dict[str, Any]
) -> None:
    lead = summary["lead_time_days"]
    rows = [
        {"figure": "simulation", "value": simulation_id},
        {"figure": "version", "value": f"{version.key} ({scenario})"},
        {"figure": "cases", "value": summary["cases"]},
        *(
            {"figure": f"lead time {k} (working days)", "value": round(v, 1)}
            for k, v in lead.items()
            if v is not None
        ),
        *(
            {"figure": f"utilisation {lane}", "value": f"{u:.0%}"}
            for lane, u in summary["utilisation"].items()
        ),
    ]
    await acreate_table_artifact(
        table=rows,
        key=f"simulation-{version.process.replace('_', '-')}",
        description=f"Simulation {simulation_id} of {version.key}",
    )


def remove_chunks(parts: list[dict[str, Any]]) -> None:
    """Delete the chunk files once stored (the summary stays)."""
    for part in parts:
        for path in [*part["files"], part["leads"]]:
            Path(path).unlink(missing_ok=True)
