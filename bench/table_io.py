"""Benchmark: flat CSV/Parquet event logs of about 1,000,000 events, written and read.

Run: ``.venv/bin/python bench/table_io.py [--events N]``.

A Boflyt event frame of N step events (a start and a completion per work item, ten steps over
four organisations, 60 resources) is generated with numpy. Each measure runs in a fresh child
process, so its peak resident memory is its own: ``write_table`` to Parquet and to CSV (the
frame is built in the child before the clock starts, so the peak includes it), then
``read_table`` of each file with the default mapping (the goal for Parquet: at most 1 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from boflyt.engine.store.frame import FRAME_SCHEMA
from boflyt.formats.mapping import LogMapping
from boflyt.formats.table_log import read_table, write_table

STEPS = 10
LANES = ("housing_office", "nav", "accounting", "property_company")


def event_frame(n_events: int, seed: int = 7) -> pl.DataFrame:
    """N step events (start and completion of ``STEPS`` items per case) as an event frame."""
    rng = np.random.default_rng(seed)
    per_case = 2 * STEPS
    cases = max(1, n_events // per_case)
    n = cases * per_case
    case = np.repeat(np.arange(cases), per_case)
    item = np.tile(np.repeat(np.arange(1, STEPS + 1), 2), cases)
    started = np.tile(np.array([True, False]), n // 2)
    gaps = rng.exponential(90.0, n)  # minutes between consecutive events of a case
    gaps[::per_case] = rng.uniform(0, 365 * 24 * 60, cases)  # the case's arrival in the year
    minutes = np.cumsum(gaps.reshape(cases, per_case), axis=1).ravel()
    start = np.datetime64("2024-01-01T00:00:00", "us")
    frame = pl.DataFrame(
        {
            "case_id": [f"c{c:07d}" for c in case],
            "seq": np.tile(np.arange(2, per_case + 2), cases),
            "kind": np.where(started, "step_started", "step_completed"),
            "at": start + (minutes * 60e6).astype("timedelta64[us]"),
            "step": np.char.add("s", (item).astype(str)),
            "item": item,
            "lane": np.array(LANES)[(item - 1) // 3 % len(LANES)],
            "actor": np.char.add("res-", rng.integers(0, 60, n).astype(str)),
        }
    )
    return frame.with_columns(
        process=pl.lit("bench"), version=pl.lit(1), mode=pl.lit("simulated")
    ).select(pl.col(name).cast(dtype) if name in frame.columns or name in
             ("process", "version", "mode") else pl.lit(None, dtype).alias(name)
             for name, dtype in FRAME_SCHEMA.items())  # fmt: skip


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


Result = tuple[float, float, float, int]
"""Wall seconds, CPU seconds (all threads), peak RSS in MB, rows."""


def _write(path: str, n_events: int, out: mp.Queue[Result]) -> None:
    events = event_frame(n_events)
    began, cpu = time.perf_counter(), time.process_time()
    rows = write_table(events, Path(path))
    out.put((time.perf_counter() - began, time.process_time() - cpu, _peak_mb(), rows))


def _read(path: str, n_events: int, out: mp.Queue[Result]) -> None:
    began, cpu = time.perf_counter(), time.process_time()
    frame = read_table(Path(path), LogMapping())
    out.put((time.perf_counter() - began, time.process_time() - cpu, _peak_mb(), frame.height))


def measure(target: object, path: Path, n_events: int) -> Result:
    """What ``target`` took, run in a fresh child process."""
    context = mp.get_context("spawn")
    queue: mp.Queue[Result] = context.Queue()
    child = context.Process(target=target, args=(str(path), n_events, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events to write and read")
    args = parser.parse_args()
    print(f"table_io: {args.events:,} step events, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    with tempfile.TemporaryDirectory() as folder:
        for suffix in ("parquet", "csv"):
            path = Path(folder) / f"log.{suffix}"
            seconds, cpu, peak, rows = measure(_write, path, args.events)
            size = path.stat().st_size / 1e6
            print(f"  write_table {suffix:7}: {seconds:6.2f} s (CPU {cpu:5.2f} s)  "
                  f"{rows / seconds:10,.0f} events/s  peak RSS {peak:5.0f} MB (with the frame)  "
                  f"file {size:5.1f} MB")  # fmt: skip
            seconds, cpu, peak, rows = measure(_read, path, args.events)
            print(f"  read_table  {suffix:7}: {seconds:6.2f} s (CPU {cpu:5.2f} s)  "
                  f"{rows / seconds:10,.0f} events/s  peak RSS {peak:5.0f} MB")  # fmt: skip
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
