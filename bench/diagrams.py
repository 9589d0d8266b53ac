"""Benchmark: diagram extraction, DOT build and rendering (SVG, PNG) at 15 and 200 steps.

Run: ``.venv/bin/python bench/diagrams.py``. Prints median wall time of 5 runs per stage, for a
generated 6-lane version of 15 and of 200 work steps (tests.factories.generated_version), the
renderer used, and peak memory (Python heap of one 200-step extract+render via tracemalloc,
measured apart from the timings; renderer process via getrusage).
Target: the 200-step version renders to SVG in at most 1 s (extract + DOT + render).
"""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from boflyt.analysis.simulation.cohort import simulate  # noqa: E402
from boflyt.engine.definition.load import load_lanes, load_version  # noqa: E402
from boflyt.models.scenario import Scenario  # noqa: E402
from boflyt.visualize.extraction import extract_swimlane  # noqa: E402
from boflyt.visualize.render import find_renderer, run_graphviz  # noqa: E402
from boflyt.visualize.report import build_report  # noqa: E402
from boflyt.visualize.swimlane import swimlane_dot  # noqa: E402
from boflyt.visualize.timeline import render_timelines  # noqa: E402
from boflyt.visualize.value_stream import extract_timeline  # noqa: E402
from tests.factories import generated_version  # noqa: E402

RUNS = 5


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Median seconds of RUNS calls, and the last result."""
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench(steps: int) -> dict[str, float]:
    lanes = load_lanes(ROOT / "processes" / "lanes.yaml")
    version = generated_version(steps)
    renderer = find_renderer("auto")
    t_extract, diagram = timed(lambda: extract_swimlane(version, lanes))
    t_dot, dot = timed(lambda: swimlane_dot(diagram))
    t_svg, svg = timed(lambda: run_graphviz(dot, "svg", renderer))
    t_png, png = timed(lambda: run_graphviz(dot, "png", renderer))
    t_timeline, _ = timed(lambda: render_timelines([extract_timeline(version, lanes)], "svg"))
    return {
        "steps": float(len(version.steps)),
        "extract": t_extract,
        "dot": t_dot,
        "svg": t_svg,
        "total_svg": t_extract + t_dot + t_svg,
        "png": t_png,
        "timeline_svg": t_timeline,
        "svg_kb": len(svg) / 1024,
        "png_kb": len(png) / 1024,
    }


def report_builds(out: Path) -> dict[str, Callable[[], Any]] | None:
    """The report builds the benchmarks time and trace (``bench/report_trace.py``): the
    private_lease v1 -> v2 report to ``out``, design only and with 200 simulated cases per
    version (simulated here, once); None without the seed library."""
    folder = ROOT / "processes" / "private_lease"
    if not (folder / "v2.yaml").is_file():
        return None
    lanes = load_lanes(ROOT / "processes" / "lanes.yaml")
    before = load_version(folder / "v1.yaml", lanes=lanes)
    after = load_version(folder / "v2.yaml", lanes=lanes)
    capacity = {"housing_office": 3, "nav": 2, "accounting": 1}
    scenario = Scenario(name="bench", arrivals_per_week=4, start="2025-01-06", capacity=capacity)
    events = [simulate(v, scenario, cases=200, seed=1).events for v in (before, after)]
    return {
        "design only": lambda: build_report(before, after, out, lanes=lanes),
        "with 200+200 simulated cases": lambda: build_report(
            before, after, out, lanes=lanes, before_events=events[0], after_events=events[1]
        ),
    }


def bench_report(out: Path) -> tuple[float, float, int] | None:
    """Seconds to build the private_lease v1 -> v2 report: design only, and with 200 simulated
    cases per version (simulation not included); and the report's size in bytes."""
    builds = report_builds(out)
    if builds is None:
        return None
    t_design, t_observed = (timed(build)[0] for build in builds.values())
    return t_design, t_observed, out.stat().st_size


def main() -> None:
    renderer = find_renderer("auto")
    print(f"renderer: {renderer.name} ({renderer.path}); median of {RUNS} runs, seconds")
    rows = [bench(15), bench(200)]
    tracemalloc.start()
    lanes = load_lanes(ROOT / "processes" / "lanes.yaml")
    run_graphviz(swimlane_dot(extract_swimlane(generated_version(200), lanes)), "svg", renderer)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    header = ("work steps", "extract", "DOT", "render SVG", "total SVG", "render PNG",
              "timeline SVG", "SVG KB", "PNG KB")  # fmt: skip
    print(" | ".join(header))
    for r in rows:
        print(
            f"{r['steps'] - 2:.0f} | {r['extract']:.4f} | {r['dot']:.4f} | {r['svg']:.3f} | "
            f"{r['total_svg']:.3f} | {r['png']:.3f} | {r['timeline_svg']:.3f} | "
            f"{r['svg_kb']:.0f} | {r['png_kb']:.0f}"
        )
    print(f"peak Python heap: {peak / 2**20:.1f} MiB; peak renderer RSS: {child_mb:.0f} MiB")
    verdict = "OK" if rows[1]["total_svg"] <= 1.0 else "TOO SLOW"
    print(f"200-step SVG target <= 1 s: {rows[1]['total_svg']:.3f} s {verdict}")
    with tempfile.TemporaryDirectory() as folder:
        report = bench_report(Path(folder) / "report.html")
    if report is not None:
        print(
            f"report private_lease v1->v2: {report[0]:.2f} s design only, {report[1]:.2f} s with "
            f"200+200 simulated cases; {report[2] / 1024:.0f} KB self-contained HTML"
        )


if __name__ == "__main__":
    main()
