"""Benchmark: retention removing the reference pseudonyms of N expired cases.

N cancelled live case rows (default 10,000; ended in 2015, each with a random pseudonym) are
written in bulk to a scratch SQLite store and, when a server answers at 127.0.0.1:5432, a
scratch PostgreSQL database (made and dropped). Then ``remove_links`` (5-year period, batches
of 500, one audit entry per case) runs once, and again (it must remove nothing). Prints wall
time, cases/s, the second run's time, peak RSS and whether ``audit verify`` is intact. The
machine is shared: the figures are lower bounds.

    .venv/bin/python bench/retention.py [--cases N] [--store sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import secrets
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from boflyt.engine.store import audit
from boflyt.engine.store.db import make_engine, open_schema, write_scope
from boflyt.engine.store.retention import Period, RetentionPolicy, remove_links
from boflyt.engine.store.statements import CASE_TABLE

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ENDED = dt.datetime(2015, 1, 1)
NOW = dt.datetime(2025, 1, 1)
POLICY = RetentionPolicy(default=Period(5, "y"))


@contextmanager
def scratch(store: str) -> Iterator[str | None]:
    """A scratch store's URL (None: no PostgreSQL server answers)."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/retention.db"
        return
    name = f"boflyt_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError:
        yield None
        return
    try:
        yield PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def fill(engine: sa.Engine, cases: int) -> None:
    """``cases`` cancelled live case rows, each with its own random pseudonym."""
    rows = [
        {"id": str(uuid.uuid4()), "ref_key": secrets.token_hex(32), "process": "p", "version": 1,
         "content_hash": "h", "mode": "live", "status": "cancelled", "started_at": ENDED,
         "finished_at": ENDED + dt.timedelta(minutes=i), "row_version": 1, "last_seq": 0,
         "arrivals": "[]"}
        for i in range(cases)
    ]  # fmt: skip
    with write_scope(engine) as conn:
        conn.execute(CASE_TABLE.insert(), rows)


def measure(store: str, cases: int) -> None:
    with scratch(store) as url:
        if url is None:
            print(f"{store}: no server at 127.0.0.1:5432; skipped")
            return
        engine = make_engine(url)
        open_schema(engine)
        fill(engine, cases)
        start = time.perf_counter()
        run = remove_links(engine, POLICY, now=NOW)
        took = time.perf_counter() - start
        start = time.perf_counter()
        again = remove_links(engine, POLICY, now=NOW)
        second = time.perf_counter() - start
        intact = audit.verify(engine).intact
        engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{store}: {len(run.removed):,} links removed in {run.batches} batches: {took:.2f} s "
        f"({len(run.removed) / took:,.0f} cases/s); second run {second * 1000:.0f} ms, "
        f"{len(again.removed)} removed; peak RSS {rss:.0f} MB; audit verify intact: {intact}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="expired cases to make")
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    for store in ("sqlite", "postgres") if args.store == "both" else (args.store,):
        measure(store, args.cases)


if __name__ == "__main__":
    main()
