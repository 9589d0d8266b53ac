"""Scenario files: validated once at load, every problem with file, line and field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario, parse_scenario
from boflyt.models.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[3] / "processes"
GOOD = """\
name: busy
description: A busy week.
arrivals_per_week: 4
start: "2025-01-06"
hours_per_day: 7.5
working_days: [mon, tue, wed, thu, fri]
holidays: norway
capacity: {housing_office: 3, nav: 2}
overrides:
  search_dwelling: {touch_minutes: [200, 400], wait_days: [5, 20]}
"""


@pytest.fixture(scope="module")
def library():
    return load_library(ROOT)


@pytest.mark.parametrize("process", ["private_lease", "refugee_settlement", "eviction_prevention"])
def test_every_default_scenario_loads(library, process) -> None:
    scenario = load_scenario(library.scenario_path(process), lanes=library.lanes)
    assert scenario.name == "default"
    assert scenario.arrivals_per_week > 0
    assert set(scenario.capacity) <= set(library.lanes.ids)


def test_a_good_scenario_keeps_its_values(library) -> None:
    scenario = parse_scenario(GOOD, file="busy.yaml", lanes=library.lanes)
    override = scenario.overrides["search_dwelling"]
    assert override.touch_minutes is not None and override.touch_minutes.mean == 300
    assert override.wait_days is not None and override.wait_days.high == 20
    assert scenario.capacity == {"housing_office": 3, "nav": 2}
    assert scenario.minutes_per_day == 450.0
    assert scenario.arrivals_per_minute == pytest.approx(4 / (5 * 450))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("capacity: {housing_office: 3, nav: 2}", "capacity: {housing_offise: 3}"),
         "busy.yaml:8 capacity.housing_offise: unknown lane 'housing_offise'; known lanes: tenant"),
        (("capacity: {housing_office: 3, nav: 2}", "capacity: {landlord: 2}"),
         "busy.yaml:8 capacity.landlord: 'landlord' is an outside party"),
        (("capacity: {housing_office: 3, nav: 2}", "capacity: {nav: 0}"),
         "busy.yaml:8 capacity.nav: Input should be greater than or equal to 1"),
        (("arrivals_per_week: 4", "arrivals_per_week: 0"),
         "busy.yaml:3 arrivals_per_week: Input should be greater than 0"),
        (("holidays: norway", "holidays: sweden"), "busy.yaml:7 holidays: Input should be"),
        (("working_days: [mon, tue, wed, thu, fri]", "working_days: [mon, mon]"),
         "busy.yaml:6 working_days: a working day is listed twice"),
        (("working_days: [mon, tue, wed, thu, fri]", "working_days: [monday]"),
         "busy.yaml:6 working_days.0: Input should be 'mon', "),
        (("[200, 400]", "[400, 200]"),
         "busy.yaml:10 overrides.search_dwelling.touch_minutes: low (400) is greater than high"),
        (("wait_days: [5, 20]}", "wait_days: [5, 20], wait: 3}"),
         "busy.yaml:10 overrides.search_dwelling.wait: unknown field; allowed: touch_minutes"),
        (("hours_per_day: 7.5", "hours_per_day: 7.5\nstaff: 3"),
         "busy.yaml:6 staff: unknown field; allowed: arrivals_per_week, capacity"),
        (("start: \"2025-01-06\"", "start: 2025-13-06"), "busy.yaml:4 start: "),
        (("name: busy", "name: busy\nname: again"), "busy.yaml:2"),
    ],
)  # fmt: skip
def test_bad_scenarios_say_where_and_what(library, change, expected) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(GOOD.replace(old, new), file="busy.yaml", lanes=library.lanes)
    assert expected in str(caught.value)


def test_all_problems_are_reported_together(library) -> None:
    text = GOOD.replace("arrivals_per_week: 4", "arrivals_per_week: -1").replace(
        "holidays: norway", "holidays: maybe"
    )
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, file="busy.yaml", lanes=library.lanes)
    assert [p.line for p in caught.value.problems] == [3, 7]


def test_without_a_catalogue_the_versions_lanes_are_the_known_ones(library) -> None:
    version = library.get("private_lease", 1)
    with pytest.raises(ScenarioError, match="unknown lane 'property_company'"):
        parse_scenario(GOOD.replace("nav: 2", "property_company: 2"), file="x.yaml",
                       version=version)  # fmt: skip


def test_a_scenario_that_is_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "scenarios" / "stuck.yaml"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match=r"named pipe \(FIFO\)"):
        load_scenario(fifo)
