"""Benchmark: how close a calibrated simulation comes to the held-out part of a real log.

On the receipt log (``../shared/data/event-logs/receipt.xes.gz``: 1,434 cases of a Dutch
municipality's environmental-permit receipt phase):

1. read it (``boflyt.formats.xes.read_xes``; a small ``xml.etree`` reader of this script when
   that module is missing) and convert it as ``boflyt import`` does (no store: the conversion's
   event frame is used directly, with a throw-away pseudonym key);
2. cut it at 70 % of the cases in start order; draft the version from the cases before the cut
   (:func:`boflyt.analysis.discovery.discover_before`) and calibrate the scenario on them
   (:func:`boflyt.analysis.calibration.calibrate`, branch probabilities put into the draft);
3. simulate as many cases as the held-out part has, from the cut on, with 10 seeds, and compute
   the log distances (:mod:`boflyt.analysis.log_distance`) between each simulated log and the
   held-out log over the log's own activities; print mean ± sd per measure;
4. the same for the draft and scenario fitted on the last ``--recent`` weeks (13, a quarter,
   chosen before looking at the figures) before the cut only, for a process that changes; and
   for a naive baseline: the drafted version as discovery wrote it (its p10-p90 uniform
   durations and its probabilities) under a default scenario (Boflyt's 08:00-15:30 Monday-Friday
   working day with Norwegian holidays, no staff limit) at the same arrival rate, and for the
   **training part itself** (its last cases, as many as the held-out part, shifted in time to
   start at the cut): how far the real process lies from itself, the floor a simulation cannot
   be expected to beat; and the calibrated model against the training part it was fitted on
   (in-sample: what the model misses even where the process did not change).

Run: ``.venv/bin/python bench/calibration.py`` (a few seconds). ``--seeds N`` changes the count,
``--log PATH`` another XES log, ``--train SHARE`` the cut, ``--recent WEEKS`` the window;
``--scale N`` also times ``calibrate`` alone on a simulated log of N cases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import resource
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from boflyt.analysis.calibration import calibrate, cut_of, split_log, with_branches  # noqa: E402
from boflyt.analysis.discovery import discover_before  # noqa: E402
from boflyt.analysis.log_distance import (  # noqa: E402
    MEASURES,
    activity_instances,
    circadian_event_distance,
    log_distances,
)
from boflyt.analysis.simulation import simulate  # noqa: E402
from boflyt.engine.definition.load import load_library  # noqa: E402
from boflyt.engine.store.pseudonym import ReferenceKey  # noqa: E402
from boflyt.formats.log_frame import RAW_SCHEMA  # noqa: E402
from boflyt.formats.log_import import convert_log  # noqa: E402
from boflyt.models.definition import LaneCatalog, Version  # noqa: E402
from boflyt.models.scenario import Scenario  # noqa: E402

LOG = ROOT.parent / "shared" / "data" / "event-logs" / "receipt.xes.gz"
_UNITS = {"cycle_time": "h", "absolute_event": "h", "case_arrival": "h",
          "circadian_event": "h", "relative_event": "h", "ngram": "",
          "circadian_weekdays": "h", "mean_cycle_time": "h"}  # fmt: skip
_EXTRA = ("circadian_weekdays", "mean_cycle_time")
"""Not distances: the circadian distance over Monday-Friday events only, and the simulated
logs' mean cycle time (the reference's is printed with it)."""


def read_log(path: Path) -> pl.DataFrame:
    """The raw log frame: Boflyt's XES reader, else a small reader of the standard attributes."""
    try:
        from boflyt.formats.xes import read_xes
    except ImportError:
        return _small_reader(path)
    return read_xes(path)


def _small_reader(path: Path) -> pl.DataFrame:  # pragma: no cover - until formats.xes lands
    """Traces' events with the XES standard attributes (org:group as the organisation)."""

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    rows: list[dict[str, object]] = []
    with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as handle:
        for _, trace in ET.iterparse(handle):
            if local(trace.tag) != "trace":
                continue
            case = next(a.get("value") for a in trace if a.get("key") == "concept:name")
            for event in (e for e in trace if local(e.tag) == "event"):
                attrs = {a.get("key"): a.get("value") for a in event}
                at = dt.datetime.fromisoformat(str(attrs["time:timestamp"]))
                rows.append({
                    "case": case, "activity": attrs["concept:name"],
                    "at": at.astimezone(dt.UTC).replace(tzinfo=None),
                    "lifecycle": (attrs.get("lifecycle:transition") or "complete").lower(),
                    "resource": attrs.get("org:resource"), "org": attrs.get("org:group"),
                    "row": len(rows) + 1,
                })  # fmt: skip
            trace.clear()
    return pl.DataFrame(rows, schema=RAW_SCHEMA)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def distances_over_seeds(
    version: Version,
    scenario: Scenario,
    lanes: LaneCatalog,
    reference: pl.DataFrame,
    activities: list[str],
    *,
    cases: int,
    seeds: int,
) -> dict[str, list[float]]:
    """The log distances of ``seeds`` simulations against the reference instances."""
    found: dict[str, list[float]] = {m: [] for m in (*MEASURES, *_EXTRA)}
    for seed in range(seeds):
        events = simulate(version, scenario, cases=cases, seed=seed, lanes=lanes).events
        simulated = activity_instances(events, activities=activities)
        for measure, value in log_distances(reference, simulated).items():
            found[measure].append(value)
        found["circadian_weekdays"].append(
            circadian_event_distance(weekdays_only(reference), weekdays_only(simulated))
        )
        found["mean_cycle_time"].append(mean_cycle_hours(simulated))
    return found


def shifted_training(training: pl.DataFrame, cases: int, cut: dt.datetime) -> pl.DataFrame:
    """The last ``cases`` cases of the training part, moved by whole weeks (weekdays and hours
    kept) so the first starts near ``cut``."""
    starts = training.group_by("case").agg(pl.col("start").min()).sort("start")
    last = starts.tail(cases)
    kept = training.filter(pl.col("case").is_in(last["case"].implode()))
    week = dt.timedelta(days=7)
    shift = round((cut - last["start"].min()) / week) * week  # type: ignore[operator]
    return kept.with_columns(pl.col("start", "end") + shift)


def weekdays_only(instances: pl.DataFrame) -> pl.DataFrame:
    """The instances that start and end Monday to Friday."""
    return instances.filter((pl.col("start").dt.weekday() <= 5) & (pl.col("end").dt.weekday() <= 5))


def mean_cycle_hours(instances: pl.DataFrame) -> float:
    spans = instances.group_by("case").agg(pl.col("end").max() - pl.col("start").min())
    return float(spans["end"].dt.total_seconds().mean() or 0.0) / 3600


def report(title: str, found: dict[str, list[float]]) -> None:
    print(f"\n{title}")
    for measure in (m for m in (*MEASURES, *_EXTRA) if m in found):
        values = np.array(found[measure])
        unit = _UNITS[measure]
        sd = f" ± {values.std(ddof=1):.2f}" if len(values) > 1 else ""
        print(f"  {measure:<16} {values.mean():10.2f}{sd} {unit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=LOG)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--train", type=float, default=0.7)
    parser.add_argument("--recent", type=int, default=13, help="weeks of the recent window")
    parser.add_argument("--scale", type=int, default=0, help="also time calibrate on N cases")
    args = parser.parse_args()
    began = time.perf_counter()
    raw = read_log(args.log)
    converted = convert_log(
        raw, name="bench", key=ReferenceKey(os.urandom(32)), source=args.log.name
    )
    events = converted.events
    read_s = time.perf_counter() - began
    cut = cut_of(events, train=args.train)
    training, held_out = split_log(events, cut)
    cases = held_out["case_id"].n_unique()
    print(f"{args.log.name}: {raw.height} events, {events['case_id'].n_unique()} cases "
          f"(read and converted in {read_s:.1f} s); cut {cut:%Y-%m-%d %H:%M}: "
          f"{training['case_id'].n_unique()} training cases, {cases} held out")  # fmt: skip

    t = time.perf_counter()
    draft = discover_before(events, cut, process="receipt", names=converted.summary.activities)
    drafted = draft.version()
    lanes = draft.lane_catalog(LaneCatalog(lanes=()))
    fit = calibrate(events, drafted, cut=cut, name="calibrated")
    calibrated = with_branches(drafted, fit.branches)
    fit_s = time.perf_counter() - t
    s = fit.scenario
    print(f"discovered {len(drafted.steps)} steps, {len(drafted.lanes)} lanes; calibrated in "
          f"{fit_s:.2f} s: {s.arrivals_per_week:.1f} arrivals/week, {s.hours_per_day} h from "
          f"08:00 on {', '.join(s.working_days)}, capacity {s.capacity}")  # fmt: skip
    for note in fit.notes:
        print(f"  note: {note.text('en')}")

    activities = sorted(events["step"].drop_nulls().unique().to_list())
    reference = activity_instances(held_out, activities=activities)
    baseline_world = Scenario(name="baseline", arrivals_per_week=s.arrivals_per_week,
                              start=cut.date())  # fmt: skip
    since = cut - dt.timedelta(weeks=args.recent)
    recent_draft = discover_before(split_log(events, since)[1], cut, process="receipt",
                                   names=converted.summary.activities)  # fmt: skip
    recent_fit = calibrate(events, recent_draft.version(), cut=cut, since=since)
    recent = with_branches(recent_draft.version(), recent_fit.branches)
    recent_lanes = recent_draft.lane_catalog(LaneCatalog(lanes=()))
    print(
        f"recent window from {since:%Y-%m-%d %H:%M}: {recent_fit.training_cases} cases, "
        f"{len(recent.steps)} steps, {recent_fit.scenario.arrivals_per_week:.1f} arrivals/week, "
        f"{recent_fit.scenario.hours_per_day} h on {', '.join(recent_fit.scenario.working_days)}, "
        f"capacity {recent_fit.scenario.capacity}"
    )
    runs = {
        "calibrated (discovered version + calibrated scenario and branches)": (
            calibrated, s, lanes),
        f"calibrated on the last {args.recent} weeks before the cut only": (
            recent, recent_fit.scenario, recent_lanes),
        "baseline (discovered version as drafted, default scenario)": (
            drafted, baseline_world, lanes),
    }  # fmt: skip
    for title, (version, world, catalog) in runs.items():
        t = time.perf_counter()
        found = distances_over_seeds(version, world, catalog, reference, activities,
                                     cases=cases, seeds=args.seeds)  # fmt: skip
        report(f"{title}: {args.seeds} seeds, {time.perf_counter() - t:.1f} s", found)
    train_ref = activity_instances(training, activities=activities)
    first: dt.datetime = training["at"].min()  # type: ignore[assignment]
    in_sample = s.model_copy(update={"start": first.date()})
    t = time.perf_counter()
    trained = training["case_id"].n_unique()
    found = distances_over_seeds(calibrated, in_sample, lanes, train_ref, activities,
                                 cases=trained, seeds=args.seeds)  # fmt: skip
    report(f"in-sample (the calibrated model against the training part itself): {args.seeds} "
           f"seeds, {time.perf_counter() - t:.1f} s", found)  # fmt: skip
    own = shifted_training(activity_instances(training, activities=activities), cases, cut)
    floor = {m: [v] for m, v in log_distances(reference, own).items()}
    floor["circadian_weekdays"] = [
        circadian_event_distance(weekdays_only(reference), weekdays_only(own))
    ]
    floor["mean_cycle_time"] = [mean_cycle_hours(own)]
    report("floor (the training part's last cases, shifted to the cut by whole weeks)", floor)
    print(
        f"\nmean cycle time: held-out {mean_cycle_hours(reference):.1f} h, training "
        f"{mean_cycle_hours(activity_instances(training, activities=activities)):.1f} h"
    )
    print(f"\npeak RSS {peak_rss_mb():.0f} MB; total {time.perf_counter() - began:.1f} s")
    if args.scale:
        scale(args.scale)


def scale(cases: int) -> None:
    """Time ``calibrate`` alone on a large log: a simulation of refugee settlement v1."""
    library = load_library(ROOT / "processes")
    version = library.get("refugee_settlement", 1)
    world = Scenario(name="big", arrivals_per_week=50, start="2025-01-06",
                     capacity={"refugee_service": 8, "property_company": 4})  # fmt: skip
    events = simulate(version, world, cases=cases, seed=1, lanes=library.lanes).events
    cut = cut_of(events, train=0.7)
    t, cpu = time.perf_counter(), time.process_time()
    fit = calibrate(events, version, cut=cut)
    wall, used = time.perf_counter() - t, time.process_time() - cpu
    print(
        f"\ncalibrate on {events.height:,} events ({cases:,} cases, {fit.training_cases:,} before "
        f"the cut): {wall:.2f} s wall, {used:.2f} s CPU; peak RSS {peak_rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
