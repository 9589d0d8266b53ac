"""The import's conversion and store: a generated raw log of about 1 M events, converted and stored.

A raw log frame (:mod:`boflyt.formats.log_frame`) is generated with numpy: cases of 4-16
events, 40 activities, 12 organisations, 300 people, a third of the steps with a start event
and a few ``schedule`` events. Then, each timed: :func:`boflyt.formats.log_import.convert_log`
(the column-wise conversion: pseudonyms, pairing, ready times, handoffs), and
:func:`boflyt.engine.store.imports.store_import` into a scratch SQLite store (and PostgreSQL
when a server answers at 127.0.0.1:5432; a scratch database is made and dropped). Prints wall
time, raw events/s and the peak RSS of the process. Reading the file itself is
``bench/xes_io.py`` and ``bench/table_io.py``.

    .venv/bin/python bench/log_import.py [--events N] [--repeat R] [--no-store]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa

from boflyt.engine.store.db import make_engine, open_schema
from boflyt.engine.store.imports import store_import
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.formats.log_frame import RAW_SCHEMA
from boflyt.formats.log_import import ConvertedLog, convert_log
from boflyt.models.tables import ImportedLog

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def generate(events: int, seed: int = 7) -> pl.DataFrame:
    """A raw log of about ``events`` events, in case order with rising times."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(4, 17, size=events // 8 + 1)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), events)) + 1]
    n = int(sizes.sum())
    case = np.repeat(np.arange(len(sizes)), sizes)
    start = np.repeat(rng.integers(0, 3 * 365 * 86_400, size=len(sizes)), sizes)
    offset = np.cumsum(rng.exponential(7_200, size=n))
    first = np.repeat(np.cumsum(sizes) - sizes, sizes)
    seconds = start + offset - np.concatenate([[0.0], offset])[first]
    lifecycle = rng.choice(["complete", "start", "schedule"], size=n, p=[0.7, 0.27, 0.03])
    epoch = np.datetime64("2021-01-01T00:00:00", "us")
    return pl.DataFrame({
        "case": pl.Series([f"case-{c}" for c in range(len(sizes))])[case],
        "activity": pl.Series([f"Activity {a}" for a in range(40)])[rng.integers(0, 40, n)],
        "at": epoch + (seconds * 1e6).astype("timedelta64[us]"),
        "lifecycle": lifecycle,
        "resource": pl.Series([f"Person {p}" for p in range(300)])[rng.integers(0, 300, n)],
        "org": pl.Series([f"Unit {u}" for u in range(12)])[rng.integers(0, 12, n)],
        "row": np.arange(2, n + 2),
    }).select(pl.col(c).cast(t) for c, t in RAW_SCHEMA.items())  # fmt: skip


def row(name: str, log: ConvertedLog) -> ImportedLog:
    s = log.summary
    return ImportedLog(
        name=name, process=s.process, version=s.version, source="generated.parquet",
        sha256="0" * 64, events=s.events, cases=s.cases, start_share=s.start_share,
        activities=json.dumps(s.activities), organisation="org",
        imported_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )  # fmt: skip


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_store(url: str, log: ConvertedLog) -> float:
    engine = make_engine(url)
    open_schema(engine)
    began = time.perf_counter()
    store_import(engine, log=row("bench", log), events=log.events)
    took = time.perf_counter() - began
    engine.dispose()
    return took


def postgres_url() -> tuple[str, sa.Engine] | None:
    name = f"boflyt_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT",
                                 connect_args={"connect_timeout": 3})  # fmt: skip
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError:
        return None
    return PG_SERVER.rsplit("/", 1)[0] + f"/{name}", admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="conversions timed (best shown)")
    parser.add_argument("--no-store", action="store_true", help="convert only")
    args = parser.parse_args()
    raw = generate(args.events)
    print(f"raw log: {raw.height:,} events, {raw['case'].n_unique():,} cases "
          f"(generated; RSS {rss_mb():.0f} MB)")  # fmt: skip
    key = ReferenceKey(b"b" * 32)
    times = []
    for _ in range(args.repeat):
        began = time.perf_counter()
        log = convert_log(raw, name="bench", key=key)
        times.append(time.perf_counter() - began)
    best = min(times)
    print(f"convert_log: {best:.2f} s best of {args.repeat} ({', '.join(f'{t:.2f}' for t in times)}"
          f"), {raw.height / best:,.0f} raw events/s -> {log.events.height:,} Boflyt events; "
          f"peak RSS {rss_mb():.0f} MB")  # fmt: skip
    if args.no_store:
        return
    with tempfile.TemporaryDirectory() as folder:
        took = timed_store(f"sqlite:///{Path(folder) / 'bench.db'}", log)
    print(f"store_import, SQLite: {took:.2f} s, {log.events.height / took:,.0f} events/s; "
          f"peak RSS {rss_mb():.0f} MB")  # fmt: skip
    found = postgres_url()
    if found is None:
        print("store_import, PostgreSQL: no server at 127.0.0.1:5432, not measured")
        return
    url, admin = found
    try:
        took = timed_store(url, log)
        print(f"store_import, PostgreSQL (COPY): {took:.2f} s, "
              f"{log.events.height / took:,.0f} events/s; peak RSS {rss_mb():.0f} MB")  # fmt: skip
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
