"""Benchmark: an XES.gz event log of about 1,000,000 events, written and read.

Run: ``.venv/bin/python bench/xes_io.py [--events N]``.

A Boflyt event frame of N step events (ready, start and completion of ten work items per case
over four organisations, 60 resources) is generated with numpy. Each measure runs in a fresh
child process, so its peak resident memory is its own:

* ``write_xes`` of the frame to ``log.xes.gz`` (the frame is built in the child before the
  clock starts, so the peak includes it) — goal: at most 5 s;
* ``read_xes`` of that file into the raw log frame — goal: at most 5 s and 1 GB;
* rustxes (``rustxes.import_xes``, the Rust reader of r4pm) on the same file, the anchor:
  what a compiled reader takes on this machine at this moment.

CPU seconds (all threads) and the load average are printed beside wall time: the machine may
be shared.
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
from boflyt.formats.xes import read_xes, write_xes

STEPS = 10
KINDS = ("step_ready", "step_started", "step_completed")
LANES = ("housing_office", "nav", "accounting", "property_company")


def event_frame(n_events: int, seed: int = 7) -> pl.DataFrame:
    """N step events (ready, start and completion of ``STEPS`` items per case)."""
    rng = np.random.default_rng(seed)
    per_case = len(KINDS) * STEPS
    cases = max(1, n_events // per_case)
    n = cases * per_case
    case = np.repeat(np.arange(cases), per_case)
    item = np.tile(np.repeat(np.arange(1, STEPS + 1), len(KINDS)), cases)
    gaps = rng.exponential(60.0, n)  # minutes between consecutive events of a case
    gaps[::per_case] = rng.uniform(0, 365 * 24 * 60, cases)  # the case's arrival in the year
    minutes = np.cumsum(gaps.reshape(cases, per_case), axis=1).ravel()
    start = np.datetime64("2024-01-01T00:00:00", "us")
    frame = pl.DataFrame(
        {
            "case_id": np.char.add("c", case.astype(str)),
            "seq": np.tile(np.arange(2, per_case + 2), cases),
            "kind": np.tile(np.array(KINDS), n // len(KINDS)),
            "at": start + (minutes * 60e6).astype("timedelta64[us]"),
            "step": np.char.add("step_", item.astype(str)),
            "item": item,
            "lane": np.array(LANES)[(item - 1) // 3 % len(LANES)],
            "actor": np.char.add("res-", rng.integers(0, 60, n).astype(str)),
        }
    )
    constant = {"process": "bench", "version": 1, "mode": "simulated"}
    return frame.select(
        pl.col(name).cast(dtype) if name in frame.columns
        else pl.lit(constant.get(name), dtype).alias(name)
        for name, dtype in FRAME_SCHEMA.items()
    )  # fmt: skip


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


Result = tuple[float, float, float, int]
"""Wall seconds, CPU seconds (all threads), peak RSS in MB, events."""


def _write(path: str, n_events: int, out: mp.Queue[Result]) -> None:
    events = event_frame(n_events)
    began, cpu = time.perf_counter(), time.process_time()
    written = write_xes(events, Path(path))
    out.put((time.perf_counter() - began, time.process_time() - cpu, _peak_mb(), written))


def _read(path: str, n_events: int, out: mp.Queue[Result]) -> None:
    began, cpu = time.perf_counter(), time.process_time()
    frame = read_xes(Path(path))
    out.put((time.perf_counter() - began, time.process_time() - cpu, _peak_mb(), frame.height))


def _rustxes(path: str, n_events: int, out: mp.Queue[Result]) -> None:
    import rustxes  # type: ignore[import-not-found]  # the anchor: a dev dependency only

    began, cpu = time.perf_counter(), time.process_time()
    frame, _ = rustxes.import_xes(path)
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
    print(f"xes_io: {args.events:,} step events, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.xes.gz"
        for label, target in (("write_xes", _write), ("read_xes", _read), ("rustxes", _rustxes)):
            seconds, cpu, peak, events = measure(target, path, args.events)
            extra = f"  file {path.stat().st_size / 1e6:5.1f} MB" if target is _write else ""
            rate = f"{events / seconds:10,.0f} events/s"
            print(f"  {label:9}: {seconds:6.2f} s (CPU {cpu:5.2f} s)  {events:,} events  "
                  f"{rate}  peak RSS {peak:5.0f} MB{extra}")  # fmt: skip
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
