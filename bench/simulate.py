"""Benchmark: simulating refugee settlement v1 under its default scenario.

Prints, on one core:
1. 100,000 cases with the core (fast driver): wall time, cases/s, events/s, peak RSS;
2. the same model driven through ``engine.case.decide`` for every command (reference driver),
   on fewer cases, to show why the fast driver exists;
3. SimPy against this module's heapq loop on the same small queueing model (event-loop cost);
4. storing a simulated cohort (``store_cohort``: the event frame as it is, case and work-item rows
   derived column-wise) on SQLite and, when a server answers at 127.0.0.1:5432, PostgreSQL;
5. the wall-time overhead of the ``simulate_version`` Prefect flow (ephemeral local mode) over
   calling the same task functions directly, both including the store write.

Item 1 runs twice, each in a fresh process so each peak RSS is its own: the cohort streamed to
Parquet files a slice of whole cases at a time (``simulate_chunk(sink=)``, what the flow's chunk
tasks do) and kept as one in-memory table (``simulate``); both print the event loop's CPU time
apart from the log's, and the RSS when the loop ends.

Run: ``.venv/bin/python bench/simulate.py`` (about 5 minutes). ``--quick`` runs smaller sizes;
``--core`` runs only item 1 and ``--store`` only item 4 (the wall time is noisy on a shared
machine, so the process CPU time is printed too).
``--scale-out CASES`` runs only the flow on a local Dask cluster of 2 worker processes
(prefect-dask; ``--chunks N``, default 20) storing to a fresh PostgreSQL database (SQLite when no
server answers), and prints every process's peak RSS, sampled each second (psutil), and each
task's own. 1,000,000 cases are about 72 M events: the store's ``COPY`` is most of the time.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if "PREFECT_HOME" not in os.environ:  # a folder of its own, removed when the bench ends
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="boflyt-bench-prefect-")
    atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], ignore_errors=True)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from boflyt.analysis.simulation.cohort import simulate, simulate_chunk, store_cohort  # noqa: E402
from boflyt.engine.definition.load import load_library  # noqa: E402
from boflyt.engine.definition.scenario import load_scenario  # noqa: E402
from boflyt.engine.store.db import make_engine, open_schema  # noqa: E402
from boflyt.models.scenario import Scenario  # noqa: E402
from tests.factories import make_version  # noqa: E402
from tests.fixtures.store import fresh_pg_database  # noqa: E402

QUICK = "--quick" in sys.argv
CASES = 10_000 if QUICK else 100_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def core(library, version, world) -> None:
    """Item 1, each way in its own process."""
    for way in ("streamed", "kept"):
        args = [sys.executable, __file__, "--one", way, *(["--quick"] if QUICK else [])]
        print(subprocess.run(args, check=True, capture_output=True, text=True).stdout, end="")


def one(library, version, world, way: str) -> None:
    """Simulate CASES cases streamed to Parquet (``streamed``) or kept in memory (``kept``)."""
    folder, files, loop = tempfile.mkdtemp(prefix="boflyt-bench-stream-"), [], {}

    def write(frame) -> None:
        files.append(f"{folder}/part-{len(files):04d}.parquet")
        frame.write_parquet(files[-1], compression="lz4", statistics=False)

    def progress(done: int) -> None:
        if done == CASES:
            loop["cpu"], loop["rss"] = time.process_time(), peak_rss_mb()

    start, cpu = time.perf_counter(), time.process_time()
    sink = write if way == "streamed" else None
    result = simulate_chunk(version, world, cases=CASES, seed=1, lanes=library.lanes,
                            progress=progress, sink=sink)  # fmt: skip
    wall, total = time.perf_counter() - start, time.process_time() - cpu
    events = result.streamed or result.events.height
    where = f"{len(files)} Parquet files" if files else "one table"
    print(
        f"core, fast driver, {way} ({where}): {CASES:,} cases, {events:,} events in {wall:.2f} s"
        f" (process CPU {total:.2f} s: event loop {loop['cpu'] - cpu:.2f} s, log "
        f"{total - loop['cpu'] + cpu:.2f} s) = {CASES / wall:,.0f} cases/s; peak RSS "
        f"{loop['rss']:,.0f} MB when the loop ends, {peak_rss_mb():,.0f} MB in all"
    )
    shutil.rmtree(folder)
    lead = result.summary()["lead_time_days"]
    print(
        f"  lead time (working days): mean {lead['mean']:.1f}, median {lead['median']:.1f}, "
        f"p90 {lead['p90']:.1f}; utilisation {result.summary()['utilisation']}"
    )


def scale_out(cases: int, chunks: int) -> None:
    """The flow on 2 worker processes (Dask LocalCluster), every process's peak RSS sampled."""
    import threading

    import psutil
    from prefect_dask import DaskTaskRunner

    from boflyt.flows.simulate import simulate_version

    work = tempfile.mkdtemp(prefix="boflyt-bench-scale-")
    peaks: dict[int, tuple[str, float]] = {}
    spent: dict[int, tuple[str, float]] = {}  # last CPU seconds seen: ours, and the server's
    stop = threading.Event()

    def sample(database: str) -> None:
        me = psutil.Process()
        while not stop.wait(1.0):
            server = [p for p in psutil.process_iter() if database in " ".join(_cmdline(p))]
            for proc in [me, *me.children(recursive=True), *server]:
                try:
                    rss, name = proc.memory_info().rss / 2**20, " ".join(proc.cmdline()[1:3])
                    times = proc.cpu_times()
                except psutil.Error:
                    continue
                side = "server" if proc in server else "client"
                spent[proc.pid] = (side, times.user + times.system)
                if rss > peaks.get(proc.pid, ("", 0.0))[1] and side == "client":
                    peaks[proc.pid] = (name[:60], rss)

    runner = DaskTaskRunner(
        cluster_kwargs={"n_workers": 2, "processes": True, "threads_per_worker": 1,
                        "memory_limit": "4GiB", "dashboard_address": None}
    )  # fmt: skip
    with _store_url(work) as url:
        os.environ["BOFLYT_DATABASE_URL"] = url
        threading.Thread(target=sample, args=(url.rsplit("/", 1)[1],), daemon=True).start()
        start, cpu = time.perf_counter(), time.process_time()
        flow = simulate_version.with_options(task_runner=runner)
        simulation_id = asyncio.run(flow("refugee_settlement", 1, cases=cases, seed=1,
                                         chunks=chunks, work_dir=work))  # fmt: skip
        wall = time.perf_counter() - start
        stop.set()
        engine = make_engine(url)
        with engine.connect() as conn:
            stored = conn.exec_driver_sql(
                f"SELECT count(*) FROM event WHERE simulation_id = '{simulation_id}'"
            ).scalar()
        engine.dispose()
    print(f"scale-out: {cases:,} cases in {chunks} chunks on 2 Dask worker processes, stored "
          f"{stored:,} events ({url.split(':')[0]}) in {wall:.1f} s wall "
          f"(driver CPU {time.process_time() - cpu:.1f} s)")  # fmt: skip
    for side in ("client", "server"):
        seconds = sum(t for kind, t in spent.values() if kind == side)
        print(f"  CPU of the {side} processes (sampled each second, last seen): {seconds:,.0f} s")
    for pid, (name, rss) in sorted(peaks.items(), key=lambda kv: -kv[1][1]):
        print(f"  pid {pid}: peak RSS {rss:,.0f} MB  {name}")
    print(f"  this (driver) process: peak RSS {peak_rss_mb():,.0f} MB")
    shutil.rmtree(work, ignore_errors=True)  # the chunks' Parquet files


def _cmdline(proc) -> list[str]:
    try:
        return proc.cmdline()
    except Exception:  # psutil.Error: gone, or not ours to read
        return []


@contextlib.contextmanager
def _store_url(work: str):
    """A fresh PostgreSQL database when a server answers, else a SQLite file in ``work``."""
    try:
        with fresh_pg_database() as url:
            yield url
            return
    except pytest.skip.Exception as skipped:
        print(f"({skipped.msg}; SQLite instead)")
    yield f"sqlite:///{work}/store.db"


def reference(library, version, world) -> None:
    cases = 1_000 if QUICK else 5_000
    for driver in ("fast", "engine"):
        start = time.perf_counter()
        result = simulate(version, world, cases=cases, seed=1, lanes=library.lanes, driver=driver)
        wall = time.perf_counter() - start
        print(
            f"driver {driver:6}: {cases:,} cases in {wall:.2f} s = {cases / wall:,.0f} cases/s "
            f"({result.events.height / wall:,.0f} events/s)"
        )


def simpy_versus_heapq() -> None:
    """18 tasks in a row, one lane of 3 people, uniform waits and touch times."""
    try:
        import simpy
    except ImportError:
        print("(SimPy is not installed: the SimPy comparison is skipped)")
        return
    steps, cases = 18, (2_000 if QUICK else 10_000)
    rng_seed = 3
    rng = np.random.default_rng(rng_seed)

    def model(env: simpy.Environment, staff: simpy.Resource, gaps: list[float]):
        def case() -> object:
            for _ in range(steps):
                yield env.timeout(rng.uniform(0, 450))
                with staff.request() as request:
                    yield request
                    yield env.timeout(rng.uniform(10, 30))

        for gap in gaps:
            yield env.timeout(gap)
            env.process(case())

    env = simpy.Environment()
    staff = simpy.Resource(env, capacity=3)
    gaps = rng.exponential(450 * 5 / 60, cases).tolist()
    start = time.perf_counter()
    env.process(model(env, staff, gaps))
    env.run()
    simpy_wall = time.perf_counter() - start
    version = make_version(
        [
            {"id": "start", "kind": "start"},
            *(
                {"id": f"s{i}", "kind": "task", "touch_minutes": [10, 30], "wait_days": [0, 1]}
                for i in range(steps)
            ),
            {"id": "end", "kind": "end"},
        ],
        [
            {"from": "start", "to": "s0"},
            *({"from": f"s{i}", "to": f"s{i + 1}"} for i in range(steps - 1)),
            {"from": f"s{steps - 1}", "to": "end"},
        ],
    )
    world = Scenario(
        name="bench", arrivals_per_week=60, start="2025-01-06", capacity={"housing_office": 3}
    )
    start = time.perf_counter()
    simulate(version, world, cases=cases, seed=rng_seed)
    ours = time.perf_counter() - start
    print(
        f"18-step chain, {cases:,} cases: SimPy (no event log) {simpy_wall:.2f} s; "
        f"heapq simulator (with the full event log) {ours:.2f} s"
    )


def store(library, version, world) -> None:
    """Store one simulated cohort on a fresh SQLite store and a fresh PostgreSQL database."""
    cases = 5_000 if QUICK else 20_000
    events = simulate(version, world, cases=cases, seed=1, lanes=library.lanes).events
    folder = tempfile.mkdtemp(prefix="boflyt-bench-store-")
    _store_on("SQLite", f"sqlite:///{folder}/store.db", library, version, events)
    try:
        with fresh_pg_database() as url:
            _store_on("PostgreSQL", url, library, version, events)
    except pytest.skip.Exception as skipped:
        print(f"({skipped.msg}; PostgreSQL skipped)")


def _store_on(label: str, url: str, library, version, events) -> None:
    engine = make_engine(url)
    open_schema(engine, upgrade=True)
    cases = events["case_id"].n_unique()
    start, cpu = time.perf_counter(), time.process_time()
    written = store_cohort(engine, version, events, simulation_id=f"bench-{label}",
                           scenario="bench", seed=1, cases=cases, lanes=library.lanes)  # fmt: skip
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    engine.dispose()
    print(f"store {cases:,} cases ({written:,} events) on {label}: {wall:.2f} s "
          f"(process CPU {cpu:.2f} s) = {written / wall:,.0f} events/s")  # fmt: skip


def prefect_overhead() -> None:
    """The same chunk, summary and store-write task functions, called plainly and as a flow."""
    from boflyt.flows.simulate import simulate_part, simulate_version, store_parts, summarise_parts

    cases = 1_000 if QUICK else 5_000
    work = tempfile.mkdtemp(prefix="boflyt-bench-")
    os.environ["BOFLYT_DATABASE_URL"] = f"sqlite:///{work}/store.db"  # the flows' store
    args = ("refugee_settlement", 1, "default")
    direct = []
    for run in range(2):
        start = time.perf_counter()
        part = simulate_part.fn(
            *args, cases=cases, seed=1, chunk=0, out_dir=work, case_prefix=f"direct{run}"
        )
        summarise_parts.fn([part], f"{work}/direct.json")
        store_parts.fn(f"direct-{run}", *args, seed=1, cases=cases, parts=[part])
        direct.append(time.perf_counter() - start)
    walls = []
    for _ in range(3):
        start = time.perf_counter()
        asyncio.run(simulate_version(*args, cases=cases, seed=1, work_dir=work))
        walls.append(time.perf_counter() - start)
    print(
        f"{cases:,} cases incl. the store write (SQLite): plain calls "
        f"{direct[0]:.2f} s, {direct[1]:.2f} s; as a Prefect flow (ephemeral) "
        f"{walls[0]:.2f} s (first: starts the local server), {walls[1]:.2f} s, {walls[2]:.2f} s"
        f" → overhead {walls[0] - direct[1]:+.2f} s first, "
        f"{sum(walls[1:]) / 2 - direct[1]:+.2f} s warm"
    )


def prefect_fixed_cost() -> None:
    """Small runs, where the store write is short: the flow's own fixed cost (server warm)."""
    from boflyt.flows.simulate import simulate_part, simulate_version, store_parts, summarise_parts

    cases, work = 200, tempfile.mkdtemp(prefix="boflyt-bench-small-")
    os.environ["BOFLYT_DATABASE_URL"] = f"sqlite:///{work}/store.db"  # the flows' store
    args = ("refugee_settlement", 1, "default")
    asyncio.run(simulate_version(*args, cases=cases, seed=1, work_dir=work))
    direct, flowed = [], []
    for run in range(5):
        start = time.perf_counter()
        part = simulate_part.fn(*args, cases=cases, seed=1, chunk=0, out_dir=work,
                                case_prefix=f"small{run}")  # fmt: skip
        summarise_parts.fn([part], f"{work}/small.json")
        store_parts.fn(f"small-{run}", *args, seed=1, cases=cases, parts=[part])
        direct.append(time.perf_counter() - start)
        start = time.perf_counter()
        asyncio.run(simulate_version(*args, cases=cases, seed=1, work_dir=work))
        flowed.append(time.perf_counter() - start)
    direct.sort()
    flowed.sort()
    print(
        f"{cases} cases, 5 runs each, server warm: plain calls median {direct[2]:.2f} s, "
        f"Prefect flow median {flowed[2]:.2f} s → fixed overhead {flowed[2] - direct[2]:+.2f} s"
    )


def main() -> None:
    library = load_library(ROOT / "processes")
    version = library.get("refugee_settlement", 1)
    world = load_scenario(library.scenario_path("refugee_settlement"), lanes=library.lanes)
    if "--one" in sys.argv:
        one(library, version, world, sys.argv[sys.argv.index("--one") + 1])
        return
    if "--scale-out" in sys.argv:
        chunks = int(sys.argv[sys.argv.index("--chunks") + 1]) if "--chunks" in sys.argv else 20
        scale_out(int(sys.argv[sys.argv.index("--scale-out") + 1]), chunks)
        return
    print(f"refugee_settlement v1, {len(version.steps)} steps; scenario {world.name}")
    if "--store" not in sys.argv:
        core(library, version, world)
    if "--core" in sys.argv:
        return
    store(library, version, world)
    if "--store" in sys.argv:
        return
    reference(library, version, world)
    simpy_versus_heapq()
    prefect_overhead()
    prefect_fixed_cost()


if __name__ == "__main__":
    main()
