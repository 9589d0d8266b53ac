"""Benchmark: exporting a million-event run set as OCEL 2.0 JSON and as XES.

A private_lease v1 cohort is simulated until its event frame holds at least 1,000,000 events
(the store's events: ready, start, completion, handoff, case events) and saved as Parquet. Each
writer then runs in a fresh process that reads the frame, pseudonymises its actors as
``boflyt export`` does (:func:`boflyt.commands.exports.export_frame`) and writes the file, so
its peak RSS is that of the export alone. Prints, per format: wall and process CPU time of
pseudonymising and writing (reading the Parquet excluded), events written, file size and peak
RSS, and the machine's load average (the CPU time is the steadier figure on a shared machine).
Goal: <= 5 s.

Run: ``.venv/bin/python bench/ocel_export.py`` (about a minute). ``--events N`` changes the size.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from boflyt.engine.store.pseudonym import ReferenceKey  # noqa: E402

EVENTS = int(sys.argv[sys.argv.index("--events") + 1]) if "--events" in sys.argv else 1_000_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_frame(path: Path) -> int:
    """Simulate private_lease v1 until the frame holds ``EVENTS`` events; keep exactly that many
    cases' worth (whole cases), saved to ``path``."""
    from boflyt.analysis.simulation.cohort import simulate
    from boflyt.engine.definition.load import load_library
    from boflyt.engine.definition.scenario import load_scenario

    library = load_library(ROOT / "processes")
    version = library.get("private_lease", 1)
    world = load_scenario(ROOT / "processes/private_lease/scenarios/default.yaml",
                          version=version, lanes=library.lanes)  # fmt: skip
    cases = EVENTS // 60 + 1
    events = simulate(version, world, cases=cases, seed=1, lanes=library.lanes).events
    while events.height < EVENTS:
        cases = int(cases * EVENTS / events.height * 1.05) + 1
        events = simulate(version, world, cases=cases, seed=1, lanes=library.lanes).events
    events = events.with_columns(pl.lit("x" * 40).alias("detail"))  # notes to leave out
    events.write_parquet(path)
    return cases


def one(kind: str, source: Path, target: Path) -> None:
    """In the child: read the frame, pseudonymise, write; print JSON figures."""
    from boflyt.commands.exports import export_frame

    events = pl.read_parquet(source)
    key = ReferenceKey(bytes(range(32)))
    start, cpu = time.perf_counter(), time.process_time()
    frame = export_frame(events, key)
    if kind == "ocel":
        from boflyt.engine.definition.load import load_library
        from boflyt.formats.ocel import step_objects, write_ocel

        objects = step_objects([load_library(ROOT / "processes").get("private_lease", 1)])
        written = write_ocel(frame, target, objects=objects)
    else:
        from boflyt.formats.xes import write_xes

        written = write_xes(frame, target)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"events_in": events.height, "written": written, "wall": wall, "cpu": cpu,
                      "bytes": target.stat().st_size, "rss": peak_rss_mb()}))  # fmt: skip


def main() -> None:
    if "--one" in sys.argv:
        kind, source, target = sys.argv[sys.argv.index("--one") + 1 :][:3]
        one(kind, Path(source), Path(target))
        return
    with tempfile.TemporaryDirectory(prefix="boflyt-bench-export-") as folder:
        source = Path(folder) / "frame.parquet"
        start = time.perf_counter()
        cases = make_frame(source)
        print(
            f"simulated {cases:,} cases of private_lease v1 in {time.perf_counter() - start:.1f} s"
            f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
        )
        for kind, name in (("ocel", "log.json"), ("xes", "log.xes.gz"), ("xes", "log.xes")):
            run = subprocess.run(
                [sys.executable, __file__, "--one", kind, str(source), str(Path(folder) / name)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if run.returncode:
                print(f"{name}: failed\n{run.stderr.strip().splitlines()[-1]}")
                continue
            got = json.loads(run.stdout.strip().splitlines()[-1])
            print(
                f"{name:10}: {got['events_in']:,} store events -> {got['written']:,} written in "
                f"{got['wall']:.2f} s, process CPU {got['cpu']:.2f} s "
                f"({got['events_in'] / got['wall']:,.0f} events/s), "
                f"{got['bytes'] / 1e6:,.0f} MB, peak RSS {got['rss']:,.0f} MB"
            )


if __name__ == "__main__":
    main()
