"""Benchmark: the full observed metric set on a synthetic event log of about 1,000,000 events.

Run: ``.venv/bin/python bench/analysis.py [--events N] [--repeat R]``.

The log is generated with numpy (no Python loop per case): a 15-step version with four
organisations and one rework loop; each case follows one of three path variants (no loop, one
loop, two loops), with engine-style events (case_started, step_ready / step_started /
step_completed per work item, handoff on every lane change, case_finished). The log is written
to Parquet in chunks of cases (so the generating process stays small); a fresh child process
reads it (``--read compact``, the default: ``compact_log`` of a lazy Parquet scan, so only the
columns the analysis reads, text as categoricals; ``--read string``: every column with the
store's column types, text as ``pl.String``), times ``observed_metrics`` (conformance included)
and reports its resident memory: with the log loaded, peak during the first analysis, peak over
all runs. ``--jemalloc`` passes allocator options to that child (polars' default keeps freed
pages for 0.5 s).

``--pm4py PYTHON`` also times PM4Py's nearest equivalents on the completed-step log (one row
per step_completed: case, step, time, organisation as resource; 304,000 events of the
1 M): variants, case durations in business hours, rework per activity, the handover-of-work
network and token-based replay against the version as a process tree. PM4Py is AGPL-licensed
and never a dependency: PYTHON is the interpreter of a throwaway virtual environment holding
it (``python -m venv /tmp/pm4py && /tmp/pm4py/bin/pip install pm4py``); the anchor's code is
in this file and runs in that interpreter, on a CSV the bench writes, timed after loading.

After timing, the child checks the result against an independent computation in plain Python
over the log's rows: handoff counts per pair of organisations (lanes), rework per case and the
count of every variant; a difference fails the run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collections import Counter

from boflyt.analysis.observed import ObservedMetrics, compact_log, observed_metrics
from boflyt.engine.calendar import DEFAULT_CALENDAR
from boflyt.models.definition import Version

LANES = ("housing_office", "nav", "accounting", "property_company")
WORK = [f"s{i:02d}" for i in range(1, 14)]  # 13 work steps + start + end = 15 steps
LANE_OF = {"start": LANES[0], "end": LANES[2]}
LANE_OF.update({step: LANES[(i // 2) % 4] for i, step in enumerate(WORK)})
LOOP_FROM, LOOP_TO = "s06", "s04"  # s06 is a decision: back to s04 with p = 0.2
VARIANT_SHARES = (0.8, 0.16, 0.04)


def bench_version() -> Version:
    """The 15-step version the synthetic log follows."""
    steps = [{"id": "start", "kind": "start"}, *({"id": s, "kind": "task"} for s in WORK)]
    steps.append({"id": "end", "kind": "end"})
    for step in steps:
        step["lane"] = LANE_OF[step["id"]]
        step["name"] = {"nb": step["id"], "en": step["id"]}
        if step["id"] == LOOP_FROM:
            step["kind"] = "decision"
    chain = ["start", *WORK, "end"]
    transitions = [{"from": a, "to": b} for a, b in itertools.pairwise(chain)]
    for t in transitions:
        if t["from"] == LOOP_FROM:
            t.update(outcome="ok", probability=0.8)
    transitions.append(
        {"from": LOOP_FROM, "to": LOOP_TO, "outcome": "redo", "probability": 0.2, "rework": True}
    )
    return Version.model_validate(
        {"process": "bench", "version": 1, "label": "bench", "owner": "bench",
         "date": "2025-01-01", "name": {"nb": "bench", "en": "bench"}, "lanes": list(LANES),
         "steps": steps, "transitions": transitions}
    )  # fmt: skip


KINDS = ["case_started", "step_ready", "step_started", "step_completed", "handoff", "case_finished"]


def template(loops: int) -> list[tuple[int, str | None, int | None, str | None, str | None]]:
    """The events of one path variant: (kind code, step, item, from_step, to_step)."""
    i = WORK.index(LOOP_TO)
    j = WORK.index(LOOP_FROM)
    path = ["start", *WORK[: j + 1], *(WORK[i : j + 1] * loops), *WORK[j + 1 :], "end"]
    rows: list[tuple[int, str | None, int | None, str | None, str | None]] = [
        (0, None, None, None, None)
    ]
    for item, step in enumerate(path, start=1):
        if item > 1 and LANE_OF[path[item - 2]] != LANE_OF[step]:
            rows.append((4, None, None, path[item - 2], step))
        if step in ("start", "end"):
            rows.append((3, step, item, None, None))
        else:
            rows += [(1, step, item, None, None), (2, step, item, None, None)]
            rows.append((3, step, item, None, None))
    rows.append((5, None, None, None, None))
    return rows


def generate(
    n_events: int, seed: int = 7, n_cases: int | None = None, first_case: int = 0
) -> pl.DataFrame:
    """A synthetic engine-style log of about ``n_events`` events (or of ``n_cases`` cases);
    case numbers start at ``first_case``."""
    rng = np.random.default_rng([seed, first_case])
    temps = [template(k) for k in range(len(VARIANT_SHARES))]
    n_cases = n_cases or int(n_events / mean_events())
    variant = rng.choice(len(temps), size=n_cases, p=VARIANT_SHARES)
    arrival = rng.uniform(0, 2 * 250 * 450, size=n_cases)  # two years of working minutes
    frames = [
        _variant_frame(temps[v], np.flatnonzero(variant == v), arrival, rng) for v in range(3)
    ]
    log = pl.concat(frames).with_columns(pl.col("case") + first_case).sort("case", "seq")
    return _finish(log)


def mean_events() -> float:
    """The expected number of events per case."""
    temps = [template(k) for k in range(len(VARIANT_SHARES))]
    return sum(s * len(t) for s, t in zip(VARIANT_SHARES, temps, strict=True))


def write_parts(folder: Path, n_events: int, n_cases: int | None, chunk: int = 5_000) -> int:
    """Generate the log in chunks of ``chunk`` cases, one Parquet file each, so the generating
    process never holds the whole log; returns the number of events."""
    total = n_cases or int(n_events / mean_events())
    written = 0
    for part, first in enumerate(range(0, total, chunk)):
        frame = generate(0, n_cases=min(chunk, total - first), first_case=first)
        frame.write_parquet(folder / f"part-{part:04d}.parquet")
        written += frame.height
    return written


def _variant_frame(
    rows: list, cases: np.ndarray, arrival: np.ndarray, rng: np.random.Generator
) -> pl.DataFrame:
    kinds = np.array([r[0] for r in rows])
    n, length = len(cases), len(rows)
    wait = np.where(kinds == 2, 1, 0)[None, :] * rng.exponential(2 * 450, size=(n, length))
    touch = np.where(kinds == 3, 1, 0)[None, :] * rng.uniform(10, 120, size=(n, length))
    clock = arrival[cases][:, None] + np.cumsum(wait + touch, axis=1)
    steps = pl.Series([r[1] for r in rows], dtype=pl.String)
    tpl = pl.DataFrame(
        {"kind": [KINDS[k] for k in kinds], "step": steps, "item": [r[2] for r in rows],
         "from_step": [r[3] for r in rows], "to_step": [r[4] for r in rows],
         "seq": np.arange(1, length + 1)}
    )  # fmt: skip
    index = np.tile(np.arange(length), n)
    frame = tpl[index]
    return frame.with_columns(
        case=pl.Series(np.repeat(cases, length)),
        minutes=pl.Series(clock.ravel()),
        touch_minutes=pl.Series(np.where(np.tile(kinds == 3, n), touch.ravel(), np.nan)),
    )


def _finish(log: pl.DataFrame) -> pl.DataFrame:
    days = np.floor(log["minutes"].to_numpy() / 450.0)
    rest = log["minutes"].to_numpy() - days * 450.0
    cal = DEFAULT_CALENDAR
    holidays = np.array(sorted(cal.holidays), dtype="datetime64[D]")
    day = np.busday_offset(np.datetime64("2023-01-02"), days.astype(np.int64), holidays=holidays)
    at = (
        day.astype("datetime64[us]")
        + np.timedelta64(8, "h")
        + (rest * 60e6).astype("timedelta64[us]")
    )
    lane = pl.col("step").replace_strict(LANE_OF, default=None)
    completed = pl.col("kind") == "step_completed"
    return log.select(
        pl.format("c{}", pl.col("case")).alias("case_id"),
        "seq",
        "kind",
        pl.Series("at", at),
        "step",
        "item",
        lane.alias("lane"),
        pl.when(completed).then(pl.lit("staff")).alias("actor"),
        pl.when(completed).then(lane).alias("org"),
        pl.lit(None, pl.String).alias("outcome"),
        pl.col("touch_minutes").fill_nan(None),
        pl.when(completed).then(pl.lit(1)).alias("transactions"),
        "from_step",
        "to_step",
        pl.col("from_step").replace_strict(LANE_OF, default=None).alias("from_lane"),
        pl.col("to_step").replace_strict(LANE_OF, default=None).alias("to_lane"),
        pl.lit("system").alias("channel"),
        pl.lit(None, pl.String).alias("detail"),
        pl.lit("bench").alias("process"),
        pl.lit(1).alias("version"),
        pl.lit("simulated").alias("mode"),
    )


PM4PY_ANCHOR = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import pm4py
path, tree, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
df = pd.read_csv(path, parse_dates=["time:timestamp"])
net, im, fm = pm4py.convert_to_petri_net(pm4py.parse_process_tree(tree))
parts = {
    "variants": lambda: pm4py.get_variants(df),
    "case durations (business hours)": lambda: pm4py.get_all_case_durations(
        df, business_hours=True),
    "rework": lambda: pm4py.get_rework_cases_per_activity(df),
    "handover of work": lambda: pm4py.discover_handover_of_work_network(df),
    "token-based replay": lambda: pm4py.fitness_token_based_replay(df, net, im, fm),
}
out = {"version": pm4py.__version__}
for name, part in parts.items():
    out[name] = []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        part()
        out[name].append((time.perf_counter() - t0, time.process_time() - c0))
print(json.dumps(out))
"""
"""PM4Py's equivalents of the observed set, run by ``--pm4py`` in that interpreter."""


def process_tree() -> str:
    """The bench version as a PM4Py process tree (the rework loop a ``*`` with a silent
    redo), for the anchor's token-based replay."""
    i, j = WORK.index(LOOP_TO), WORK.index(LOOP_FROM)
    loop = f"*( ->( {', '.join(repr(s) for s in WORK[i : j + 1])} ), tau )"
    chain = ["'start'", *(repr(s) for s in WORK[:i]), loop, *(repr(s) for s in WORK[j + 1 :])]
    return f"->( {', '.join([*chain, repr('end')])} )"


def completed_csv(parts: str, target: Path) -> int:
    """The completed-step log in PM4Py's column names, in case and ``seq`` order, as CSV."""
    done = (
        pl.scan_parquet(parts)
        .filter(pl.col("kind") == "step_completed")
        .select(
            pl.col("case_id").alias("case:concept:name"),
            pl.col("step").alias("concept:name"),
            pl.col("at").alias("time:timestamp"),
            pl.col("org").alias("org:resource"),
        )
        .collect()
    )
    done.write_csv(target)
    return done.height


def run_pm4py(python: str, parts: str, folder: Path, repeat: int) -> tuple[int, dict[str, Any]]:
    """The anchor's figures: events in its log, and per part a (wall, CPU) pair per run."""
    target = folder / "completed.csv"
    events = completed_csv(parts, target)
    argv = [python, "-c", PM4PY_ANCHOR, str(target), process_tree(), str(repeat)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return events, json.loads(done.stdout.strip().splitlines()[-1])


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc (Linux), in MB; NaN elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _measure(path: str, repeat: int, read: str, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    c0 = time.process_time()
    scan = pl.scan_parquet(path)
    events = compact_log(scan) if read == "compact" else scan.collect()
    read_cpu = time.process_time() - c0
    version = bench_version()
    loaded = _status_mb("VmRSS")
    with contextlib.suppress(OSError):  # reset the high-water mark to the analysis (Linux)
        Path("/proc/self/clear_refs").write_text("5")
    times, cpu, peaks = [], [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = observed_metrics(events, version=version)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        peaks.append(_status_mb("VmHWM"))
    life = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert result.conformance is not None
    del events
    checked = _cross_check(path, result)
    figures = (times, cpu, read_cpu, (loaded, peaks, life), result.cases.height)
    queue.put((*figures, result.conformance.share, checked))


def _cross_check(path: str, result: ObservedMetrics) -> str:
    """Handoffs per lane pair, rework per case and variant counts, computed again in plain
    Python over the log's rows (one pass, dictionaries), must equal the analysis's."""
    rows = pl.read_parquet(path, columns=["case_id", "seq", "kind", "step", "from_lane", "to_lane"])
    handoffs: Counter[tuple[str, str]] = Counter()
    paths: dict[str, list[tuple[int, str]]] = {}
    finished: set[str] = set()
    cases: set[str] = set()
    for case, seq, kind, step, from_lane, to_lane in rows.iter_rows():
        cases.add(case)
        if kind == "handoff":
            handoffs[from_lane, to_lane] += 1
        elif kind == "step_completed":
            paths.setdefault(case, []).append((seq, step))
        elif kind == "case_finished":
            finished.add(case)
    steps = {case: [step for _, step in sorted(done)] for case, done in paths.items()}
    rework = {case: sum(n > 1 for n in Counter(steps.get(case, ())).values()) for case in cases}
    variants = Counter("→".join(s) for case, s in steps.items() if case in finished)
    got_handoffs = {
        (r["from_lane"], r["to_lane"]): r["handoffs"] for r in result.handoff_waits.to_dicts()
    }
    got_rework = dict(result.cases.select("case_id", "rework").iter_rows())
    got_variants = dict(result.variants.select("variant", "cases").iter_rows())
    failed = [
        name
        for name, mine, theirs in (
            ("handoffs per lane pair", dict(handoffs), got_handoffs),
            ("rework per case", rework, got_rework),
            ("variant counts", dict(variants), got_variants),
        )
        if mine != theirs
    ]
    if failed:
        raise AssertionError(f"differs from the independent computation: {', '.join(failed)}")
    return (
        f"{sum(handoffs.values()):,} handoffs in {len(handoffs)} lane pairs, rework of "
        f"{len(rework):,} cases ({sum(rework.values()):,} steps), {len(variants)} variants: "
        "equal to a plain-Python computation"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=None, help="generate this many cases")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--read", choices=("compact", "string"), default="compact",
        help="compact: compact_log of a lazy scan (the columns read, text as categoricals); "
        "string: the whole log with text as pl.String (as before issue 16)",
    )  # fmt: skip
    parser.add_argument(
        "--jemalloc", default=None,
        help="allocator options for the measuring process (_RJEM_MALLOC_CONF), e.g. "
        "dirty_decay_ms:0,muzzy_decay_ms:0",
    )  # fmt: skip
    parser.add_argument(
        "--pm4py", default=None, metavar="PYTHON",
        help="also time PM4Py's equivalents with this interpreter (a throwaway venv with pm4py)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.jemalloc:  # read by polars when the spawned child imports it
        os.environ["_RJEM_MALLOC_CONF"] = args.jemalloc
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        n_events = write_parts(Path(tmp), args.events, args.cases)
        generated = time.perf_counter() - t0
        parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        path = str(Path(tmp) / "*.parquet")
        queue: mp.Queue = mp.get_context("spawn").Queue()  # type: ignore[type-arg]
        child = mp.get_context("spawn").Process(
            target=_measure, args=(path, args.repeat, args.read, queue)
        )
        child.start()
        times, cpu, read_cpu, (loaded, peaks, life), cases, share, checked = queue.get()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"the measuring process failed (exit code {child.exitcode})")
        anchor = None if not args.pm4py else run_pm4py(args.pm4py, path, Path(tmp), args.repeat)
    best, median = min(times), float(np.median(times))
    print(f"log: {n_events:,} events, {cases:,} cases, 15 steps, {len(LANES)} organisations "
          f"(generated in {generated:.2f} s, written as Parquet in chunks of 5,000 cases; "
          f"{dt.datetime.now(dt.UTC):%Y-%m-%d})")  # fmt: skip
    print(f"observed_metrics (full set, conformance included), {args.repeat} runs:")
    print(f"  wall time   best {best:.3f} s, median {median:.3f} s")
    print(f"  CPU time    best {min(cpu):.3f} s (user + system, all threads)")
    print(f"  throughput  {n_events / best:,.0f} events/s (best run)")
    print(f"  CPU time    median {float(np.median(cpu)):.3f} s")
    print(f"  read        --read {args.read}: {read_cpu:.3f} s CPU")
    print(f"  RSS         {loaded:,.0f} MB with the log loaded (Python + polars + frame)")
    print(f"  peak RSS    {peaks[0]:,.0f} MB during the first analysis (log included), "
          f"{peaks[-1]:,.0f} MB over all {args.repeat} runs, "
          f"{life:,.0f} MB over the child's life (Parquet decoding included)")  # fmt: skip
    print(f"  generator   {parent_mb:,.0f} MB peak RSS of the generating process")
    conf = args.jemalloc or "polars' default (dirty_decay_ms:500,muzzy_decay_ms:1000)"
    print(f"  allocator   jemalloc options of the measuring process: {conf}")
    print(f"  conformance {share:.3f} (every generated run follows the graph)")
    print(f"  checked     {checked}")
    print(f"  load        {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min, 2 cores)")
    if anchor is not None:
        _print_anchor(*anchor, wall=median, cpu=float(np.median(cpu)))


def _print_anchor(events: int, figures: dict[str, Any], *, wall: float, cpu: float) -> None:
    """PM4Py's medians per part and in all, and how many times Boflyt's full set is faster."""
    version = figures.pop("version")
    print(f"PM4Py {version} on the completed-step log ({events:,} events), median per part:")
    walls = cpus = 0.0
    for name, runs in figures.items():
        part_wall, part_cpu = (float(np.median([run[i] for run in runs])) for i in (0, 1))
        walls, cpus = walls + part_wall, cpus + part_cpu
        print(f"  {name:32s} {part_wall:.3f} s wall, {part_cpu:.3f} s CPU")
    print(f"  {'in all':32s} {walls:.3f} s wall, {cpus:.3f} s CPU")
    print(f"  Boflyt's full set on the whole log (medians) is {walls / wall:.1f}x faster in "
          f"wall time, {cpus / cpu:.1f}x in CPU time")  # fmt: skip


if __name__ == "__main__":
    main()
