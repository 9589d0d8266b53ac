"""Benchmark the case engine and the store; print a table of measured figures.

* pure core: ``decide`` calls per CPU second driving library cases to their end (no I/O);
* durable step completions per second: each one a full command transaction (load, decide,
  compare-and-set, work items, events, commit) — SQLite (one writer, WAL,
  ``synchronous=NORMAL``) and PostgreSQL (1 and 4 writer threads), when a server answers at
  127.0.0.1:5432 (a scratch database is created and dropped);
* the bulk path for simulated runs (``append_simulated``): events per second.

Run: ``.venv/bin/python bench/engine.py [--cases N] [--repeat R] [--pure-only]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import re
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from boflyt.engine.case import (  # noqa: E402
    CompleteStep,
    Flow,
    StartCase,
    compile_flow,
    decide,
    open_items,
)
from boflyt.engine.definition.load import load_library  # noqa: E402
from boflyt.engine.store import commands as store  # noqa: E402
from boflyt.engine.store.db import create_schema, make_engine  # noqa: E402
from boflyt.engine.store.pseudonym import ReferenceKey  # noqa: E402
from boflyt.models.definition import Version  # noqa: E402
from boflyt.models.tables import SimulationRun  # noqa: E402
from boflyt.models.vocabulary import RunStatus, StepKind  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
T0 = dt.datetime(2025, 1, 6, 9, 0)


def _forward(version: Version) -> dict[str, str]:
    """For each decision, the outcome leading fastest to an end (so cases finish)."""
    distance = {s.id: 0 for s in version.steps if s.kind is StepKind.END}
    for _ in version.steps:
        for t in version.transitions:
            if t.target in distance:
                distance[t.source] = min(distance.get(t.source, 10**6), distance[t.target] + 1)
    choice: dict[str, str] = {}
    for step in version.steps:
        options = [t for t in version.transitions if t.source == step.id and t.outcome]
        if options:
            best = min(options, key=lambda t: distance.get(t.target, 10**6))
            choice[step.id] = best.outcome or ""
    return choice


def _next_command(flow: Flow, state: object, forward: dict[str, str]) -> CompleteStep | None:
    items = open_items(state)  # type: ignore[arg-type]
    if not items:
        return None
    step = flow.steps[items[0].step]
    org = step.lane if step.lane not in flow.outside else sorted(step.allowed - flow.outside)[0]
    return CompleteStep(step.id, "bench", org, forward.get(step.id), 10.0)


def bench_pure(version: Version, outside: frozenset[str], cases: int) -> tuple[float, int, int]:
    """(CPU seconds, decide calls, events) replaying one case's commands ``cases`` times.

    The commands are planned once (outside the timing), so only ``decide`` is measured. The
    time is the process's CPU time: the pure core is single-threaded and computes only, so on a
    shared machine (several test runs at once) wall time measures the neighbours instead.
    """
    flow, forward = compile_flow(version, outside), _forward(version)
    state = decide(flow, None, StartCase("plan", "bench", "nav"), now=T0).state
    plan: list[CompleteStep] = []
    while (command := _next_command(flow, state, forward)) is not None:
        plan.append(command)
        state = decide(flow, state, command, now=T0).state
    calls = events = 0
    started = time.process_time()
    for n in range(cases):
        decision = decide(flow, None, StartCase(f"c{n}", "bench", "nav"), now=T0)
        state, events = decision.state, events + len(decision.events)
        for command in plan:
            decision = decide(flow, state, command, now=T0)
            state, events = decision.state, events + len(decision.events)
        calls += 1 + len(plan)
    return time.process_time() - started, calls, events


class Durable(NamedTuple):
    """One durable run: wall seconds, completions, this process's CPU seconds and the server
    round trips (PostgreSQL: protocol syncs, counted from libpq's trace; SQLite: statements the
    driver ran, ``BEGIN`` and ``COMMIT`` included) spent on the completions alone."""

    seconds: float
    completions: int
    cpu: float
    round_trips: int


class RoundTrips:
    """Counts an engine's server round trips from the moment it is attached.

    PostgreSQL: every ``Sync`` or simple ``Query`` message the client sends (one each per
    statement answered, ``BEGIN`` and ``COMMIT`` and the pool's ping included), read from
    libpq's protocol trace; SQLite: every statement the driver runs (its trace callback).
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.sqlite = engine.dialect.name == "sqlite"
        self._engine = engine
        self._count = 0
        self._trace = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by detach()
        engine.pool.dispose()  # new connections get the trace
        sa.event.listen(engine, "connect", self._attach)

    def detach(self) -> None:
        """Stop tracing: later connections are untraced (the trace costs the client CPU)."""
        sa.event.remove(self._engine, "connect", self._attach)
        self._engine.pool.dispose()
        self._trace.close()

    def _attach(self, dbapi_connection: Any, _record: object) -> None:
        if self.sqlite:
            dbapi_connection.set_trace_callback(self._statement)
        else:
            from psycopg import pq

            dbapi_connection.pgconn.trace(self._trace.fileno())
            dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)

    def _statement(self, _sql: str) -> None:
        self._count += 1

    def total(self) -> int:
        """Round trips since attached."""
        if self.sqlite:
            return self._count
        self._trace.flush()
        self._trace.seek(0)
        return sum(1 for line in self._trace if _SYNC.match(line))


_SYNC = re.compile(r"F\t\d+\t(Sync|Query)\b")


def bench_durable(
    engine: sa.Engine, version: Version, lanes: object, cases: int, writers: int,
    trips: RoundTrips | None = None,
) -> Durable:  # fmt: skip
    """``writers`` threads completing steps of their own cases (started before the timing)."""
    key = ReferenceKey(b"k" * 32)
    flow, forward = compile_flow(version, store.outside_lanes(version, lanes)), _forward(version)  # type: ignore[arg-type]
    states = [
        store.start_case(engine, version=version, ref=f"bench-{uuid.uuid4()}", key=key,
                         actor="bench", org="nav", now=T0, lanes=lanes)  # type: ignore[arg-type]
        for _ in range(cases)
    ]  # fmt: skip
    counts = [0] * writers
    barrier = threading.Barrier(writers + 1)

    def writer(w: int) -> None:
        barrier.wait()
        for state in states[w::writers]:
            case_id = state.case_id
            while state.status is RunStatus.RUNNING:
                command = _next_command(flow, state, forward)
                assert command is not None
                state = store.complete_step(engine, case_id=case_id, step=command.step,
                                            actor="bench", org=command.org, now=T0,
                                            outcome=command.outcome,
                                            touch_minutes=command.touch_minutes)  # fmt: skip
                counts[w] += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    before = trips.total() if trips else 0
    cpu = time.process_time()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return Durable(seconds, sum(counts), cpu, (trips.total() - before) if trips else 0)


def bench_bulk(engine: sa.Engine, version: Version, cases: int) -> tuple[float, int]:
    """(seconds, events) writing ``cases`` simulated cases through ``append_simulated``."""
    flow, forward = compile_flow(version), _forward(version)
    states, events = [], []
    for n in range(cases):
        decision = decide(flow, None, StartCase(f"sim-{uuid.uuid4()}", "sim", "nav"), now=T0)
        state, log = decision.state, list(decision.events)
        while (command := _next_command(flow, state, forward)) is not None:
            decision = decide(flow, state, command, now=T0 + dt.timedelta(minutes=n))
            state = decision.state
            log += decision.events
        states.append(state)
        events += log
    run = SimulationRun(id=str(uuid.uuid4()), process=version.process, version=version.version,
                        scenario="bench", seed=1, cases=cases, created_at=T0,
                        content_hash=version.content_hash)  # fmt: skip
    started = time.perf_counter()
    written = store.append_simulated(engine, simulation=run, states=states, events=events)
    return time.perf_counter() - started, written


def _best(run: Callable[[], tuple[float, int]], repeat: int) -> tuple[float, str]:
    """The best rate of ``repeat`` runs, and every run's rate (the machine may be shared)."""
    rates = []
    for _ in range(repeat):
        seconds, count = run()
        rates.append(count / seconds)
    return max(rates), " / ".join(f"{rate:,.0f}" for rate in rates)


def _pg_database() -> tuple[str, Callable[[], None]] | None:
    name = f"boflyt_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT",
                             connect_args={"connect_timeout": 3})  # fmt: skip
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        print(f"(PostgreSQL not reachable: {exc.orig}; skipping its rows)")
        return None

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return PG_SERVER.rsplit("/", 1)[0] + f"/{name}", drop


def _durable_row(
    name: str, engine: sa.Engine, version: Version, lanes: object, args: argparse.Namespace,
    writers: int,
) -> tuple[str, str, str]:  # fmt: skip
    """The durable completions row: best rate of ``args.repeat`` runs, every run's rate, and
    (load-independent) CPU time and round trips per completion. The round trips are counted
    in one more run of a tenth of the cases, traced, so the timed runs do not pay for the trace."""
    runs = [bench_durable(engine, version, lanes, args.cases, writers) for _ in range(args.repeat)]
    best = max(runs, key=lambda run: run.completions / run.seconds)
    rates = " / ".join(f"{run.completions / run.seconds:,.0f}" for run in runs)
    cpu = min(run.cpu / run.completions for run in runs) * 1e6
    trips = RoundTrips(engine)
    counted = bench_durable(engine, version, lanes, max(args.cases // 10, writers), writers, trips)
    trips.detach()
    per = counted.round_trips / counted.completions
    what = "statements" if trips.sqlite else "round trips"
    return (f"{name}: durable completions", f"{best.completions / best.seconds:,.0f} /s",
            f"runs {rates}; {cpu:,.0f} µs CPU (this process) and {per:.2f} {what} "
            "per completion")  # fmt: skip


def _process_writer(url: str, cases: int, start: Any, out: Any) -> None:
    """One writer process of :func:`_processes_row`: its own engine and cases."""
    library = load_library(ROOT / "processes")
    engine = make_engine(url, pool_size=2)
    start.wait()
    run = bench_durable(engine, library.get("refugee_settlement", 1), library.lanes, cases, 1)
    out.put(run)
    engine.dispose()


def _processes_row(url: str, cases: int, processes: int) -> tuple[str, str, str]:
    """Durable completions/s of ``processes`` writer processes on one PostgreSQL database:
    all completions over the slowest process's time (each starts its cases, then completes)."""
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_process_writer, args=(url, cases // processes, start, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    runs = [out.get() for _ in workers]
    for worker in workers:
        worker.join()
    done = sum(run.completions for run in runs)
    slowest = max(run.seconds for run in runs)
    return (f"PostgreSQL, {processes} writer processes: durable completions",
            f"{done / slowest:,.0f} /s",
            f"{done:,} completions, slowest process {slowest:.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500, help="cases per durable run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure; best is shown")
    parser.add_argument("--processes", type=int, default=4,
                        help="writer processes of the PostgreSQL multi-process run")  # fmt: skip
    parser.add_argument("--pure-only", action="store_true", help="only the pure core (no database)")
    args = parser.parse_args()
    library = load_library(ROOT / "processes")
    version = library.get("refugee_settlement", 1)
    outside = frozenset(lane.id for lane in library.lanes.lanes if lane.outside)
    rows: list[tuple[str, str, str]] = []

    for chosen in (version, library.get("refugee_settlement", 2)):
        seconds, _, events = bench_pure(chosen, outside, cases=args.cases * 10)
        pure = partial(bench_pure, chosen, outside, args.cases * 10)
        best, runs = _best(lambda: pure()[:2], args.repeat)  # noqa: B023
        rows.append((f"pure core, {chosen.key}: decide calls", f"{best:,.0f} /s",
                     f"runs {runs}; {events / seconds:,.0f} events/s"))  # fmt: skip

    if args.pure_only:
        _print(version, rows)
        return

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        create_schema(engine)
        rows.append(_durable_row("SQLite, 1 writer", engine, version, library.lanes, args, 1))
        best, runs = _best(lambda: bench_bulk(engine, version, args.cases * 20), args.repeat)
        rows.append(("SQLite: append_simulated events", f"{best:,.0f} /s", f"runs {runs}"))
        engine.dispose()

    pg = _pg_database()
    if pg is not None:
        url, drop = pg
        try:
            engine = make_engine(url, pool_size=8)
            create_schema(engine)
            for writers in (1, 4):
                name = f"PostgreSQL, {writers} writer thread(s)"
                rows.append(_durable_row(name, engine, version, library.lanes, args, writers))
            rows.append(_processes_row(url, args.cases, args.processes))
            best, runs = _best(lambda: bench_bulk(engine, version, args.cases * 20), args.repeat)
            rows.append(("PostgreSQL: append_simulated events", f"{best:,.0f} /s", f"runs {runs}"))
            engine.dispose()
        finally:
            drop()

    _print(version, rows)


def _print(version: Version, rows: list[tuple[str, str, str]]) -> None:
    """The table of figures, headed by the workload, peak memory and the machine's load."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"bench/engine.py · {version.key} ({len(version.steps)} steps) · peak RSS {peak:.0f} MB"
        f" · {os.cpu_count()} CPUs, load average {load} (1/5/15 min) at the end"
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'rate':>12}  detail")
    for name, rate, detail in rows:
        print(f"{name:<{width}}  {rate:>12}  {detail}")


if __name__ == "__main__":
    main()
