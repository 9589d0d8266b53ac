"""Benchmark: ``conformance`` on a synthetic event log of about 1,000,000 events.

Run: ``.venv/bin/python bench/conformance.py [--events N] [--cases N] [--repeat R]``.

The log is the one ``bench/analysis.py`` generates (a 15-step version with four organisations
and one rework loop, engine-style events; about 51 events and 17 completed steps per case). It
is checked twice, each ``--repeat`` times: against its own version (every run conforms) and,
with ``every_run``, against a redesign that drops ``s05`` and adds ``s14`` before ``s13``, so
every run has a log move and a model move and the deviations by step have rows. Wall time (best
and median), throughput and the process's peak resident memory are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from boflyt.analysis.conformance import Conformance, conformance
from boflyt.models.definition import Version


def _generator() -> Any:
    """``bench/analysis.py`` as a module (its log generator and version)."""
    path = Path(__file__).resolve().parent / "analysis.py"
    spec = importlib.util.spec_from_file_location("bench_analysis", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_analysis"] = module
    spec.loader.exec_module(module)
    return module


def redesign(version: Version) -> Version:
    """``version`` without ``s05`` (s04 → s06) and with a new ``s14`` between s12 and s13."""
    data = version.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["version"] = 2
    steps = [s for s in data["steps"] if s["id"] != "s05"]
    at = next(i for i, s in enumerate(steps) if s["id"] == "s13")
    new = {**steps[at], "id": "s14", "name": {"nb": "s14", "en": "s14"}}
    data["steps"] = [*steps[:at], new, *steps[at:]]
    moved = {("s04", "s05"): ("s04", "s06"), ("s12", "s13"): ("s12", "s14")}
    transitions = []
    for t in data["transitions"]:
        if t["from"] == "s05":
            continue
        t["from"], t["to"] = moved.get((t["from"], t["to"]), (t["from"], t["to"]))
        transitions.append(t)
    transitions.append({"from": "s14", "to": "s13"})
    data["transitions"] = transitions
    return Version.model_validate(data)


def _time(repeat: int, run: Any) -> tuple[list[float], Conformance]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
    assert result is not None
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=None, help="generate this many cases")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench = _generator()
    t0 = time.perf_counter()
    log = bench.generate(args.events, n_cases=args.cases)
    generated = time.perf_counter() - t0
    own, other = bench.bench_version(), redesign(bench.bench_version())
    print(f"log: {log.height:,} events, {log['case_id'].n_unique():,} cases (generated in "
          f"{generated:.2f} s; {dt.datetime.now(dt.UTC):%Y-%m-%d})")  # fmt: skip
    runs = (
        ("against its own version", lambda: conformance(log, own)),
        ("against a redesign (every_run)", lambda: conformance(log, other, every_run=True)),
    )
    for title, run in runs:
        times, result = _time(args.repeat, run)
        best = min(times)
        steps = 0 if result.steps is None else result.steps.height
        print(f"conformance {title}, {args.repeat} runs:")
        print(f"  wall time   best {best:.3f} s, median {float(np.median(times)):.3f} s")
        print(f"  throughput  {log.height / best:,.0f} events/s (best run)")
        print(f"  result      {result.runs:,} runs, {result.conforming:,} conforming, mean "
              f"fitness {result.mean_fitness:.3f}, {steps} steps with deviations")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB (the process: log generation included)")
    print(f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min, 2 cores)")


if __name__ == "__main__":
    main()
