"""What-if simulation jobs of the web app: started from a page, run outside the web worker.

A job is one simulation of a process version under a scenario edited in the what-if form
(:mod:`boflyt.web.whatif_page`). The web worker only writes the job's file and starts a
subprocess (``python -m boflyt.web.whatif_jobs <job file>``), so a long simulation never holds
the worker's interpreter (the pages stay fast) and a crash of either side leaves the other
standing. The subprocess runs the Prefect flow :func:`boflyt.flows.simulate.simulate_version`
as ``boflyt simulate`` does (or the core directly when the job says ``prefect: false``, as the
fast tests do) and keeps the job's state in its JSON file under the data folder,
``<data>/whatif/<job>.json``, written atomically, so every web worker sees the same progress:

``queued`` → ``running`` (with ``done``, the cases simulated so far) → ``storing`` →
``finished`` (with ``run_set``, e.g. ``simulated:4``) or ``failed`` (with ``error``).

The flow reads its scenario by name from a process library folder, and the workspace's
``processes/`` is the source of truth that the web never writes scenarios into: so each job gets
a copy of the library in its own folder, ``<data>/whatif/<job>/processes``, with the edited
scenario as ``<process>/scenarios/<name>.yaml``; the run set is stored under that scenario name.
The store URL (which may hold a password) reaches the subprocess in its environment only, never
in the job file. A job whose runner stopped writing for :data:`STALE` is shown as failed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

import yaml

from boflyt.models.scenario import Scenario

__all__ = [
    "FINAL",
    "STALE",
    "chunks_for",
    "jobs_dir",
    "read_job",
    "run_job",
    "start_job",
    "write_job",
]

JOB_ID = re.compile(r"^[0-9a-f]{32}$")
"""A job id: a UUID4 in hex (also what keeps a job file inside its folder)."""
FINAL = frozenset({"finished", "failed"})
"""States after which a job's file no longer changes."""
STALE = dt.timedelta(seconds=90)
"""A job not final whose file has not been written for this long has lost its runner."""
HEARTBEAT = 1.0
"""Seconds between the runner's writes while it simulates."""


def chunks_for(cases: int) -> int:
    """Independent replications (Prefect tasks) for ``cases`` cases: one per 1,000, at most 8,
    the same rule for every what-if run so two runs of equal size compare fairly; each finished
    chunk moves the progress bar of a Prefect run."""
    return max(1, min(8, cases // 1000))


def jobs_dir(*, create: bool = True) -> Path:
    """``<data>/whatif`` of the current workspace (created owner-only unless ``create`` is
    false: reading a job never makes folders)."""
    from boflyt.workspace import Workspace

    workspace = Workspace.current()
    if not create:
        return workspace.data_dir / "whatif"
    folder = workspace.ensure_data_dir() / "whatif"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def write_job(path: Path, job: dict[str, Any]) -> None:
    """Write ``job`` to ``path`` atomically (a reader sees the old or the new file, never half)."""
    job = {**job, "updated": _now()}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(job, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def read_job(folder: Path, job_id: str, *, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """The job ``job_id`` in ``folder``; None for a malformed or unknown id. A job not final
    whose runner has been silent for :data:`STALE` comes back ``failed``."""
    if not JOB_ID.match(job_id):
        return None
    try:
        job: dict[str, Any] = json.loads((folder / f"{job_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if job.get("state") not in FINAL:
        updated = dt.datetime.fromisoformat(str(job.get("updated")))
        if (now or dt.datetime.now(dt.UTC)) - updated > STALE:
            silent = int(STALE.total_seconds())
            error = f"the simulation process stopped answering (silent for over {silent} s)"
            job = {**job, "state": "failed", "error": error}
    return job


def _library_copy(source: Path, target: Path, process: str, scenario: Scenario) -> None:
    """Copy the library at ``source`` to ``target`` and write ``scenario`` into it."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    folder = target / process / "scenarios"
    folder.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(scenario.model_dump(mode="json"), allow_unicode=True, sort_keys=False)
    (folder / f"{scenario.name}.yaml").write_text(text, encoding="utf-8")


def start_job(
    folder: Path,
    *,
    library_root: Path,
    process: str,
    version: int,
    scenario: Scenario,
    cases: int,
    seed: int,
    database_url: str,
    owner: str,
    prefect: bool = True,
) -> str:
    """Queue a simulation of ``process`` v``version`` and start its runner; return the job id.

    The runner's exit is watched by a daemon thread of this process: a runner that dies
    without saying so leaves its job ``failed`` with its exit code and last line of output.
    """
    job_id = uuid.uuid4().hex
    home = folder / job_id
    home.mkdir(mode=0o700)
    _library_copy(library_root, home / "processes", process, scenario)
    path = folder / f"{job_id}.json"
    job = {
        "id": job_id, "process": process, "version": version, "name": scenario.name,
        "cases": cases, "seed": seed, "chunks": chunks_for(cases), "prefect": prefect,
        "owner": owner, "state": "queued", "done": 0, "created": _now(),
        "scenario": scenario.model_dump(mode="json"),
    }  # fmt: skip
    write_job(path, job)
    env = {**os.environ, "BOFLYT_DATABASE_URL": database_url}
    log = (home / "runner.log").open("wb")
    runner = subprocess.Popen(  # our own module, arguments we made
        [sys.executable, "-m", "boflyt.web.whatif_jobs", str(path)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
        start_new_session=True,
    )  # fmt: skip
    log.close()
    threading.Thread(target=_watch, args=(runner, path), daemon=True,
                     name=f"whatif-{job_id[:8]}").start()  # fmt: skip
    return job_id


def _watch(runner: subprocess.Popen[bytes], path: Path) -> None:
    """Reap the runner; if it ended without writing a final state, mark the job failed."""
    code = runner.wait()
    try:
        job = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if job.get("state") in FINAL:
        return
    lines = [x for x in _tail(path.with_suffix("") / "runner.log").splitlines() if x.strip()]
    last = lines[-1][:300] if lines else ""
    error = f"the simulation process ended with exit code {code} without a result"
    write_job(path, {**job, "state": "failed", "error": f"{error}: {last}" if last else error})


def _tail(path: Path, size: int = 4000) -> str:
    try:
        with path.open("rb") as file:
            file.seek(max(0, path.stat().st_size - size))
            return file.read().decode("utf-8", "replace")
    except OSError:
        return ""


# --------------------------------------------------------------------------- the runner


def run_job(path: Path) -> int:
    """Run the job at ``path`` to its end, keeping its file up to date; 0 when it finished.

    Every error ends as ``failed`` with its message in the file (the traceback goes to the
    runner's log beside it).
    """
    job: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    home = path.with_suffix("")
    job = {**job, "state": "running", "done": 0, "pid": os.getpid()}
    write_job(path, job)
    try:
        run_set = (_through_prefect if job["prefect"] else _direct)(path, job, home)
    except BaseException as exc:
        traceback.print_exc()
        message = str(exc) or type(exc).__name__
        write_job(path, {**_latest(path, job), "state": "failed", "error": message})
        return 1
    finally:
        shutil.rmtree(home / "processes", ignore_errors=True)
    write_job(path, {**_latest(path, job), "state": "finished", "done": job["cases"], **run_set})
    return 0


def _latest(path: Path, fallback: dict[str, Any]) -> dict[str, Any]:
    try:
        latest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return fallback
    return latest


def _run_set(simulation_id: str, process: str, version: int) -> dict[str, Any]:
    """The stored run set's name and number (``simulated:N``)."""
    from boflyt.engine.store.queries import describe_run_set
    from boflyt.models.runset import RunSet
    from boflyt.workspace import Workspace

    engine = Workspace.current().open_store()
    try:
        info = describe_run_set(engine, RunSet.simulation(simulation_id), process=process,
                                version=version)  # fmt: skip
    finally:
        engine.dispose()
    return {"simulation_id": simulation_id, "run_set": info.name, "number": info.number}


def _direct(path: Path, job: dict[str, Any], home: Path) -> dict[str, Any]:
    """The core without Prefect (same log for the same arguments), progress per case."""
    from boflyt.analysis.simulation.cohort import simulate, store_cohort
    from boflyt.engine.definition.load import load_library
    from boflyt.engine.definition.scenario import load_scenario
    from boflyt.workspace import Workspace

    library = load_library(home / "processes")
    version = library.get(job["process"], job["version"])
    world = load_scenario(library.scenario_path(job["process"], job["name"]), version=version,
                          lanes=library.lanes)  # fmt: skip
    simulation_id = str(uuid.uuid4())
    last = [0.0]

    def progress(done: int) -> None:
        if time.monotonic() - last[0] >= HEARTBEAT / 2:
            last[0] = time.monotonic()
            write_job(path, {**job, "done": done})

    result = simulate(version, world, cases=job["cases"], seed=job["seed"],
                      chunks=job["chunks"], lanes=library.lanes, case_prefix=simulation_id[:8],
                      progress=progress)  # fmt: skip
    write_job(path, {**job, "state": "storing", "done": job["cases"]})
    engine = Workspace.current().open_store()
    try:
        store_cohort(engine, version, result.events, simulation_id=simulation_id,
                     scenario=world.name, seed=job["seed"], cases=job["cases"],
                     lanes=library.lanes)  # fmt: skip
    finally:
        engine.dispose()
    return _run_set(simulation_id, job["process"], job["version"])


def _through_prefect(path: Path, job: dict[str, Any], home: Path) -> dict[str, Any]:
    """The ``simulate_version`` flow in a thread; the chunk files it leaves are the progress.
    Prefect's local-mode defaults are those of the command line (a patient first start)."""
    from boflyt.prefect_local import use_local_defaults

    use_local_defaults()  # before Prefect is first imported in this process
    from boflyt.analysis.simulation.cohort import chunk_size
    from boflyt.flows.simulate import simulate_version

    simulation_id = str(uuid.uuid4())
    work_dir = home / "work"
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            asyncio.run(simulate_version(
                job["process"], job["version"], job["name"], cases=job["cases"],
                seed=job["seed"], chunks=job["chunks"], processes_dir=str(home / "processes"),
                work_dir=str(work_dir), simulation_id=simulation_id,
            ))  # fmt: skip
        except BaseException as exc:  # reported by the caller
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="whatif-flow")
    worker.start()
    chunks, folder = job["chunks"], work_dir / simulation_id
    while worker.is_alive():
        finished = sorted(folder.glob("*-leads.parquet")) if folder.is_dir() else []
        done = sum(chunk_size(job["cases"], chunks, i) for i in range(len(finished)))
        state = "storing" if len(finished) >= chunks else "running"
        write_job(path, {**job, "state": state, "done": done})
        worker.join(HEARTBEAT)
    if "error" in outcome:
        raise outcome["error"]
    shutil.rmtree(work_dir, ignore_errors=True)
    return _run_set(simulation_id, job["process"], job["version"])


if __name__ == "__main__":  # pragma: no cover - the subprocess entry point
    sys.exit(run_job(Path(sys.argv[1])))
