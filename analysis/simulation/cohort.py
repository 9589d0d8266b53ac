"""Discrete-event simulation of a version under a scenario: staff capacity, waits, seeded.

The clock counts **working minutes** (the scenario's hours per day on its working days, minus
holidays); nights, weekends and holidays do not exist on it, and events are stamped with
calendar datetimes at the end (:meth:`boflyt.engine.calendar.WorkCalendar.stamp`). Cases arrive as a
Poisson stream (``arrivals_per_week`` spread over the week's working minutes). Each work item
that becomes ready first waits its ``wait_days`` (drawn; outside parties and timers use no
staff), then queues first-come-first-served for one person of every organisation that works on
the step (its lane and ``joint_with`` lanes; people are taken in lane order, which rules out
deadlock), is begun, takes its ``touch_minutes`` and is completed with an outcome drawn by the
transition probabilities. Lanes without a ``capacity`` entry and outside parties are unlimited.

Routing — decisions, rework loops, parallel split and join, end — is the case engine's
(:mod:`boflyt.engine.case.decide`); see :mod:`boflyt.analysis.simulation.drivers` for the two
drivers and
:mod:`boflyt.analysis.simulation.world` for the event loop. The event loop is
a plain ``heapq`` over one seeded numpy ``Generator`` whose uniforms are drawn in blocks: on the
same queueing chain SimPy was measured slower without writing any log than this loop with the
full log (``bench/simulate.py``).

:func:`store_cohort` stores a cohort straight from its event frame, as one run set.

>>> from tests.factories import linear_version
>>> from models.scenario import Scenario
>>> s = Scenario(name="demo", arrivals_per_week=5, start="2025-01-06", capacity={"nav": 1})
>>> r = simulate(linear_version(), s, cases=20, seed=1)
>>> r.events.height, r.summary()["cases"]
(220, 20)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Sequence
from functools import partial
from os import PathLike
from typing import Literal

import numpy as np
import polars as pl
from sqlalchemy.engine import Engine

from boflyt.analysis.simulation.drivers import EngineDriver, FastDriver
from boflyt.analysis.simulation.log import SLICE_ROWS, frame_slices, to_frame
from boflyt.analysis.simulation.result import SimulationResult, build_result, merge_results
from boflyt.analysis.simulation.world import Plan, World
from boflyt.engine.calendar import WorkCalendar, norwegian_holidays
from boflyt.engine.case.decide import compile_flow
from boflyt.engine.store.eventlog import append_case_files, append_files, append_frame
from boflyt.engine.store.frame import empty_frame
from boflyt.engine.store.versions import outside_lanes
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.runset import SimulationOrigin
from boflyt.models.scenario import Scenario
from boflyt.models.tables import SimulationRun

__all__ = [
    "SimulationResult",
    "calendar_of",
    "chunk_size",
    "simulate",
    "simulate_chunk",
    "store_chunk_files",
    "store_cohort",
    "store_cohort_files",
]


def calendar_of(scenario: Scenario, *, years: int = 1) -> WorkCalendar:
    """The scenario's working calendar covering ``years`` years from its start."""
    first = scenario.start.year
    holidays = (
        norwegian_holidays(range(first - 1, first + years + 1))
        if scenario.holidays == "norway"
        else frozenset()
    )
    return WorkCalendar(
        hours_per_day=scenario.hours_per_day, weekdays=scenario.weekday_numbers, holidays=holidays
    )


def simulate(
    version: Version,
    scenario: Scenario,
    *,
    cases: int,
    seed: int,
    lanes: LaneCatalog | None = None,
    progress: Callable[[int], None] | None = None,
    chunks: int = 1,
    driver: Literal["fast", "engine"] = "fast",
    case_prefix: str = "sim",
) -> SimulationResult:
    """Simulate ``cases`` cases of ``version`` under ``scenario`` with seed ``seed``.

    ``chunks`` > 1 splits the cases into that many independent replications (what the Prefect
    flow runs as separate tasks); the result is the same either way. ``lanes`` marks outside
    parties. ``progress`` is called with the number of cases finished so far.

    Raises:
        ValueError: ``cases`` < 1 or ``chunks`` < 1.
    """
    if cases < 1 or chunks < 1:
        raise ValueError(f"cases and chunks must be at least 1, not {cases} and {chunks}")
    done = 0

    def tick(n: int) -> None:
        if progress is not None:
            progress(done + n)

    part = partial(simulate_chunk, version, scenario, seed=seed, lanes=lanes, driver=driver)
    parts = []
    for chunk in range(min(chunks, cases)):
        size = chunk_size(cases, chunks, chunk)
        parts.append(part(cases=size, chunk=chunk, progress=tick, case_prefix=case_prefix))
        done += size
    return parts[0] if len(parts) == 1 else merge_results(parts)


def chunk_size(cases: int, chunks: int, chunk: int) -> int:
    """Cases in replication ``chunk`` when ``cases`` are split into ``chunks`` near-equal parts."""
    return cases // chunks + (1 if chunk < cases % chunks else 0)


def simulate_chunk(
    version: Version,
    scenario: Scenario,
    *,
    cases: int,
    seed: int,
    chunk: int = 0,
    lanes: LaneCatalog | None = None,
    progress: Callable[[int], None] | None = None,
    driver: Literal["fast", "engine"] = "fast",
    case_prefix: str = "sim",
    sink: Callable[[pl.DataFrame], None] | None = None,
    slice_rows: int = SLICE_ROWS,
) -> SimulationResult:
    """One independent replication; its generator is seeded with ``(seed, chunk)``.

    With ``sink`` the event log is not kept: it is handed to ``sink`` in frames of about
    ``slice_rows`` events, whole cases each (:func:`~boflyt.analysis.simulation.log.frame_slices`;
    the frames concatenated, text columns cast from categorical, are the ``events`` it would
    have had), and the result's ``events``
    is empty, with ``streamed`` counting them. Memory then stays near the event loop's own
    (a caller writes each frame to a file and drops it).
    """
    outside = frozenset(x.id for x in lanes.lanes if x.outside) if lanes else frozenset()
    flow = compile_flow(version, outside)
    plan = Plan(flow, scenario)
    ids = [f"{case_prefix}-{chunk}-{i + 1:06d}" for i in range(cases)]
    engine: FastDriver | EngineDriver
    if driver == "engine":
        engine = EngineDriver(flow, plan.step_ids, plan.names)
        engine.case_ids = ids
    else:
        engine = FastDriver(flow, plan.step_ids, plan.names, plan.org)
    world = World(plan, engine, np.random.default_rng([seed, chunk]), progress)
    world.run(cases)
    years = math.ceil(world.clock / scenario.minutes_per_day / (len(scenario.working_days) * 50))
    calendar = calendar_of(scenario, years=years + 1)
    log = {"case_ids": ids, "step_ids": plan.step_ids, "names": plan.names, "flow": flow,
           "calendar": calendar, "origin": scenario.start}  # fmt: skip
    if sink is None:
        events = to_frame(engine, **log)  # type: ignore[arg-type]
        return _result(world, plan, scenario, version, seed, cases, events, calendar)
    streamed = 0
    for part in frame_slices(engine, rows=slice_rows, categorical=True, **log):  # type: ignore[arg-type]
        streamed += part.height
        sink(part)
        del part
    result = _result(world, plan, scenario, version, seed, cases, empty_frame(), calendar)
    return dataclasses.replace(result, streamed=streamed)


def store_cohort(
    engine: Engine,
    version: Version,
    events: pl.DataFrame,
    *,
    simulation_id: str,
    scenario: str,
    seed: int,
    cases: int,
    lanes: LaneCatalog | None = None,
    origin: SimulationOrigin = SimulationOrigin.SIMULATE,
    replace: bool = False,
) -> int:
    """Store a simulated cohort — its event frame as :func:`simulate` gives it (or the chunks'
    frames concatenated) — as the run set ``simulated:<number>``; return the events written.

    One transaction (:func:`~boflyt.engine.store.eventlog.append_frame`): the frame goes to the
    log as it is, and each case's row and work items are derived from it column-wise, with no
    Python loop over events or cases. ``replace`` drops the earlier simulations of this version
    and ``origin`` in the same transaction (the demo keeps one per version).
    """
    run = _run_row(version, simulation_id, scenario, seed, cases, origin)
    flow = compile_flow(version, outside_lanes(version, lanes))
    return append_frame(engine, simulation=run, events=events, flow=flow, replace=replace)


def store_cohort_files(
    engine: Engine,
    version: Version,
    paths: Sequence[str | PathLike[str]],
    *,
    simulation_id: str,
    scenario: str,
    seed: int,
    cases: int,
    lanes: LaneCatalog | None = None,
    origin: SimulationOrigin = SimulationOrigin.SIMULATE,
    replace: bool = False,
) -> int:
    """:func:`store_cohort` from Parquet files of the event frame, each of whole cases (what a
    ``sink`` of :func:`simulate_chunk` wrote), read and stored one at a time in the one
    transaction (:func:`~boflyt.engine.store.eventlog.append_files`): memory is bounded by the
    largest file, however many cases the cohort has."""
    run = _run_row(version, simulation_id, scenario, seed, cases, origin)
    flow = compile_flow(version, outside_lanes(version, lanes))
    return append_files(engine, simulation=run, paths=paths, flow=flow, replace=replace)


def store_chunk_files(
    engine: Engine,
    version: Version,
    paths: Sequence[str | PathLike[str]],
    *,
    simulation_id: str,
    lanes: LaneCatalog | None = None,
) -> int:
    """Store part of a cohort — the cases of Parquet files as :func:`store_cohort_files` reads
    them — in a transaction of its own, not yet visible as a run set; return the events written.

    Several processes can store their parts of one cohort at once (on PostgreSQL each a
    ``COPY`` of its own); :func:`store_cohort_files` with the remaining files (or none) then
    writes the run row that makes the cohort ``simulated:<number>``, in its one transaction.
    A run that stops before that leaves rows no run set shows:
    :func:`~boflyt.engine.store.eventlog.discard_unpublished` removes them.
    """
    run = _run_row(version, simulation_id, "", 0, 0, SimulationOrigin.SIMULATE)
    flow = compile_flow(version, outside_lanes(version, lanes))
    return append_case_files(engine, simulation=run, paths=paths, flow=flow)


def _run_row(
    version: Version,
    simulation_id: str,
    scenario: str,
    seed: int,
    cases: int,
    origin: SimulationOrigin,
) -> SimulationRun:
    return SimulationRun(
        id=simulation_id, process=version.process, version=version.version, scenario=scenario,
        seed=seed, cases=cases, created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        content_hash=version.content_hash, origin=SimulationOrigin(origin).value,
    )  # fmt: skip


# --------------------------------------------------------------------------- results


def _result(
    world: World,
    plan: Plan,
    scenario: Scenario,
    version: Version,
    seed: int,
    cases: int,
    events: pl.DataFrame,
    calendar: WorkCalendar,
) -> SimulationResult:
    return build_result(
        process=version.process,
        version=version.version,
        scenario=scenario.name,
        seed=seed,
        events=events,
        arrived=np.asarray(world.arrived),
        ended=np.asarray(world.ended),
        busy={lane: world.busy[i] for i, lane in enumerate(plan.lanes)},
        queued={lane: world.waiting[i] for i, lane in enumerate(plan.lanes)},
        capacity=plan.capacity,
        horizon=world.clock,
        dates=lambda days: _dates(calendar, scenario.start, days, scenario.minutes_per_day),
        per_day=scenario.minutes_per_day,
    )


def _dates(calendar: WorkCalendar, origin: dt.date, days: int, per_day: float) -> pl.Series:
    """The calendar date of each working day 0..days-1."""
    starts = calendar.stamp(origin, np.arange(days, dtype=np.float64) * per_day + 1.0)
    return pl.Series("day", starts.astype("datetime64[D]"), dtype=pl.Date)
