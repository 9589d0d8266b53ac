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
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

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


def bench_durable(
    engine: sa.Engine, version: Version, lanes: object, cases: int, writers: int
) -> tuple[float, int]:
    """(seconds, completions) for ``writers`` threads completing steps of their own cases."""
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
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, sum(counts)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500, help="cases per durable run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure; best is shown")
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
        best, runs = _best(
            lambda: bench_durable(engine, version, library.lanes, args.cases, 1), args.repeat
        )
        rows.append(("SQLite, 1 writer: durable completions", f"{best:,.0f} /s", f"runs {runs}"))
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
                durable = partial(
                    bench_durable, engine, version, library.lanes, args.cases, writers
                )
                best, runs = _best(durable, args.repeat)
                rows.append((f"PostgreSQL, {writers} writer thread(s): durable completions",
                             f"{best:,.0f} /s", f"runs {runs}"))  # fmt: skip
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
