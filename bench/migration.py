"""Benchmark migrating running cases: 10,000 live private_lease v1 cases moved to v2.

The cases are made with the pure engine (each driven a random number of steps along random
outcomes, so they stand on every v1 step) and written in bulk as live cases with their event
chain, into a scratch SQLite store and, when a server answers at 127.0.0.1:5432, a scratch
PostgreSQL database (created and dropped). Then, each timed: ``plan_migrations`` (the dry run:
every case planned, nothing written) and ``apply_migrations`` (one transaction per case), with
the mapping of v1 steps that v2 lacks. Prints wall time, cases/s and peak RSS (the process's
high-water mark, so the apply row includes the plan).

Run: ``.venv/bin/python bench/migration.py [--cases N] [--store sqlite|postgres|both]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from boflyt.engine.case.decide import (  # noqa: E402
    CompleteStep,
    StartCase,
    compile_flow,
    decide,
    open_items,
)
from boflyt.engine.case.flow import Flow  # noqa: E402
from boflyt.engine.definition.load import load_library  # noqa: E402
from boflyt.engine.store import accounts, audit  # noqa: E402
from boflyt.engine.store import case_migration as migration  # noqa: E402
from boflyt.engine.store import commands as store  # noqa: E402
from boflyt.engine.store.db import create_schema, make_engine  # noqa: E402
from boflyt.engine.store.statements import CASE_TABLE, write_events, write_items  # noqa: E402
from boflyt.models.vocabulary import Mode, Role, RunStatus  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
T0 = dt.datetime(2025, 1, 6, 9, 0)
MAPPING = {
    "apply_on_paper": "apply_digital",
    "nav_register_assess": "joint_assessment",
    "nav_refer_by_email": "joint_assessment",
    "ho_register_applicant": "joint_assessment",
    "applicant_sends_documents": "joint_assessment",
    "negotiate_lease_terms": "sign_head_lease",
    "nav_preapprove_rent": "sign_head_lease",
    "manager_sign_off": "sign_head_lease",
    "register_supplier": "generate_finance_records",
    "landlord_corrects_account": "generate_finance_records",
    "register_resident_account": "generate_finance_records",
    "apply_housing_allowance": "rent_cycle",
    "reconcile_payments": "rent_cycle",
}
"""Where work on a private_lease v1 step that v2 lacks moves to."""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fill(engine: sa.Engine, flow: Flow, cases: int, seed: int = 15) -> int:
    """Write ``cases`` running live cases of ``flow``, in bulk; the events written."""
    rng = random.Random(seed)
    written, events_written, batch = 0, 0, []
    while written < cases:
        decision = decide(flow, None, StartCase(str(uuid.uuid4()), "kari", "nav"), now=T0)
        state, events = decision.state, list(decision.events)
        for n in range(rng.randint(0, 14)):
            items = open_items(state)
            step = flow.steps[rng.choice(items).step]
            outcome = rng.choice(step.outcomes) if step.outcomes else None
            at = T0 + dt.timedelta(hours=n + 1)
            after = decide(flow, state, CompleteStep(step.id, "kari", step.lane, outcome), now=at)
            if after.state.status is not RunStatus.RUNNING:
                break
            state, events = after.state, [*events, *after.events]
        batch.append((state, events))
        written += 1
        if len(batch) == 500 or written == cases:
            events_written += _write(engine, batch)
            batch = []
    return events_written


def _write(engine: sa.Engine, batch: list) -> int:
    """Cases as ``start_case`` and the commands would have stored them, in one transaction."""
    count = 0
    with engine.begin() as conn:
        conn.execute(CASE_TABLE.insert(), [
            {"id": s.case_id, "ref_key": f"k{s.case_id}", "process": s.process,
             "version": s.version, "content_hash": s.content_hash, "mode": Mode.LIVE.value,
             "status": s.status.value, "started_at": s.started_at, "row_version": 1,
             "last_seq": s.seq, "arrivals": json.dumps(s.arrivals)}
            for s, _ in batch
        ])  # fmt: skip
        for state, events in batch:
            write_items(conn, state.case_id, (), state.items)
            hashes = audit.chain_events(events, state, Mode.LIVE, None, audit.GENESIS)
            write_events(conn, events, state, Mode.LIVE, None, hashes)
            count += len(events)
    return count


def run(url: str, label: str, cases: int) -> list[tuple[str, str, str, str]]:
    library = load_library(ROOT / "processes")
    v1, v2 = library.get("private_lease", 1), library.get("private_lease", 2)
    engine = make_engine(url)
    create_schema(engine)
    store.publish_version(engine, v1, lanes=library.lanes, now=T0)
    accounts.add_account(engine, username="olga", password="correct horse battery",
                         orgs=["nav"], roles=[Role.PROCESS_OWNER], now=T0)  # fmt: skip
    flow = compile_flow(v1, store.outside_lanes(v1, library.lanes))
    began = time.perf_counter()
    events = _fill(engine, flow, cases)
    print(f"{label}: {cases:,} running cases, {events:,} events written in "
          f"{time.perf_counter() - began:.1f} s")  # fmt: skip
    rows = []
    began = time.perf_counter()
    plans = migration.plan_migrations(engine, source=v1, target=v2, mapping=MAPPING,
                                      lanes=library.lanes)  # fmt: skip
    seconds = time.perf_counter() - began
    refused = sum(p.refused is not None for p in plans)
    warned = sum(bool(p.warnings) for p in plans)
    rows.append((f"{label} plan (dry run)", f"{seconds:.2f} s",
                 f"{len(plans) / seconds:,.0f} cases/s", f"{_peak_mb():.0f} MB"))  # fmt: skip
    print(f"  planned {len(plans):,}: {refused} refused, {warned:,} with warnings")
    began = time.perf_counter()
    results = migration.apply_migrations(engine, source=v1, target=v2, mapping=MAPPING,
                                         actor="olga", lanes=library.lanes)  # fmt: skip
    seconds = time.perf_counter() - began
    moved = sum(r.migrated for r in results)
    rows.append((f"{label} apply", f"{seconds:.2f} s", f"{moved / seconds:,.0f} cases/s",
                 f"{_peak_mb():.0f} MB"))  # fmt: skip
    print(f"  moved {moved:,} of {len(results):,}")
    check = audit.verify(engine)
    print(f"  audit verify: {'intact' if check.intact else check.problems[:3]}")
    engine.dispose()
    return rows


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
    parser.add_argument("--cases", type=int, default=10_000, help="running cases to migrate")
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    rows = []
    if args.store in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            rows += run(f"sqlite:///{Path(folder) / 'bench.db'}", "SQLite", args.cases)
    if args.store in ("postgres", "both"):
        made = _pg_database()
        if made is not None:
            url, drop = made
            try:
                rows += run(url, "PostgreSQL", args.cases)
            finally:
                drop()
    print("\n| Measure | Wall time | Rate | Peak RSS |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
