"""The event frame: the store's case and work-item rows derived column-wise agree with replay."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from boflyt.analysis.simulation.cohort import simulate, store_cohort
from boflyt.engine.case.decide import (
    BeginStep,
    CancelCase,
    CaseState,
    Escalate,
    StartCase,
    compile_flow,
    decide,
    open_items,
    replay,
)
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.engine.store import commands as store
from boflyt.engine.store.frame import FRAME_SCHEMA, case_frame, empty_frame, item_frame
from boflyt.models.events import EVENT_COLUMNS, Event
from boflyt.models.vocabulary import EventKind
from tests.factories import linear_version

LIBRARY = load_library(Path(__file__).resolve().parents[3] / "processes")
OUTSIDE = frozenset(lane.id for lane in LIBRARY.lanes.lanes if lane.outside)
MONDAY = dt.datetime(2025, 1, 6, 9, 0)


def _replayed(frame: pl.DataFrame, flow) -> list[CaseState]:
    states = []
    for (_,), case in frame.group_by("case_id", maintain_order=True):
        rows = case.select(EVENT_COLUMNS).iter_rows()
        states.append(replay(flow, [Event(r[0], r[1], EventKind(r[2]), *r[3:]) for r in rows]))
    return states


def _agree(frame: pl.DataFrame, flow) -> list[CaseState]:
    states = _replayed(frame, flow)
    cases = [(s.case_id, s.status.value, s.started_at, s.finished_at, s.seq,
              json.dumps(s.arrivals)) for s in states]  # fmt: skip
    assert case_frame(frame, flow).rows() == cases
    items = sorted((s.case_id, *i[:2], i.status.value, *i[3:]) for s in states for i in s.items)
    assert sorted(item_frame(frame).rows()) == items
    return states


def test_the_frame_schema_is_the_event_columns_then_the_version_and_mode() -> None:
    assert list(FRAME_SCHEMA) == [*EVENT_COLUMNS, "process", "version", "mode"]
    assert FRAME_SCHEMA["at"] == pl.Datetime("us")
    assert empty_frame().height == 0


@pytest.mark.parametrize("number", [1, 2])
def test_cases_cut_anywhere_give_the_rows_replay_gives(number: int) -> None:
    version = LIBRARY.get("refugee_settlement", number)
    world = load_scenario(LIBRARY.scenario_path("refugee_settlement"), lanes=LIBRARY.lanes)
    events = simulate(version, world, cases=150, seed=4, lanes=LIBRARY.lanes).events
    last = events.group_by("case_id").agg(pl.col("seq").max().alias("last"))
    cut = np.random.default_rng(number).uniform(0.2, 1.2, last.height)
    limits = last.with_columns((pl.col("last") * pl.Series(cut)).ceil().alias("limit"))
    frame = events.join(limits, on="case_id").filter(pl.col("seq") <= pl.col("limit"))
    states = _agree(frame.select(list(FRAME_SCHEMA)), compile_flow(version, OUTSIDE))
    assert {s.status.value for s in states} == {"running", "finished"}
    if number == 2:  # the version with a join: some cut cases wait at it
        assert any(s.arrivals for s in states)


def test_escalated_started_and_cancelled_items_keep_what_replay_keeps() -> None:
    flow = compile_flow(linear_version())
    decision = decide(flow, None, StartCase("c-1", "ann", "housing_office"), now=MONDAY)
    events = list(decision.events)
    for command in (Escalate((open_items(decision.state)[0].number,)),
                    BeginStep("a", "ann", "housing_office"),
                    CancelCase("ann", "housing_office", "moved")):  # fmt: skip
        decision = decide(flow, decision.state, command, now=MONDAY)
        events += decision.events
    frame = pl.DataFrame([e._asdict() for e in events], schema_overrides={"kind": pl.String})
    frame = frame.with_columns(
        pl.col("kind").cast(pl.String),
        pl.lit("p").alias("process"),
        pl.lit(1).alias("version"),
        pl.lit("simulated").alias("mode"),
    )
    assert _agree(frame.cast(FRAME_SCHEMA), flow)[0].status.value == "cancelled"  # type: ignore[arg-type]


def test_a_cohort_stored_from_its_frame_reads_back_as_replay_rebuilds_it(any_engine) -> None:
    version = LIBRARY.get("refugee_settlement", 2)
    world = load_scenario(LIBRARY.scenario_path("refugee_settlement"), lanes=LIBRARY.lanes)
    events = simulate(version, world, cases=40, seed=5, lanes=LIBRARY.lanes).events
    cut = events.filter((pl.col("case_id").rank("dense") % 3 != 0) | (pl.col("seq") < 30))
    written = store_cohort(any_engine, version, cut, simulation_id="sim-a", scenario=world.name,
                           seed=5, cases=40, lanes=LIBRARY.lanes)  # fmt: skip
    assert written == cut.height
    assert store.event_frame(any_engine, simulation_id="sim-a").equals(cut)
    flow = compile_flow(version, OUTSIDE)
    for case_id in cut["case_id"].unique(maintain_order=True):
        stored = store.get_case(any_engine, case_id)
        assert stored == replay(flow, store.case_timeline(any_engine, case_id))
