"""The neutral diagram models: lanes, numbering, marks, labels and positions."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from boflyt.analysis.design import design_metrics
from boflyt.engine.definition.graph import handoffs
from boflyt.engine.definition.load import load_lanes
from boflyt.models.definition import LaneCatalog
from boflyt.models.vocabulary import StepKind
from boflyt.visualize.diagram import Mark
from boflyt.visualize.extraction import extract_comparison, extract_swimlane
from boflyt.visualize.layout import flow_positions
from tests.factories import (
    branching_version,
    decision_version,
    generated_version,
    linear_version,
    make_version,
    redesigned_branching_version,
)

LANES_FILE = Path(__file__).resolve().parents[2] / "processes" / "lanes.yaml"


@pytest.fixture(scope="module")
def lanes() -> LaneCatalog:
    return load_lanes(LANES_FILE)


def test_lanes_follow_the_versions_order_with_catalogue_labels(lanes: LaneCatalog) -> None:
    version = branching_version()
    nb = extract_swimlane(version, lanes)
    en = extract_swimlane(version, lanes, lang="en")
    assert [lane.id for lane in nb.lanes] == ["housing_office", "nav", "landlord"]
    assert [lane.label for lane in nb.lanes] == ["Boligkontoret", "NAV-kontoret", "Privat utleier"]
    assert [lane.label for lane in en.lanes] == ["Housing office", "NAV office", "Private landlord"]
    assert [lane.outside for lane in nb.lanes] == [False, False, True]


def test_every_handoff_is_numbered_once_in_flow_order(lanes: LaneCatalog) -> None:
    version = branching_version()
    diagram = extract_swimlane(version, lanes)
    lane_of = {n.id: n.lane for n in diagram.nodes}
    depth = {n.id: n.depth for n in diagram.nodes}
    numbered = [e for e in diagram.edges if e.handoff]
    assert len(numbered) == len(handoffs(version)) == 8
    assert sorted(e.handoff for e in numbered) == list(range(1, 9))
    for edge in diagram.edges:
        assert (edge.handoff is not None) == (lane_of[edge.source] != lane_of[edge.target])
    sources = [depth[e.source] for e in diagram.handoff_edges]
    assert sources == sorted(sources)
    assert diagram.handoff_edges[0].source == "intake"


def test_rework_outcomes_and_labels_in_the_chosen_language(lanes: LaneCatalog) -> None:
    version = decision_version(rework=True)
    nb = extract_swimlane(version, lanes)
    en = extract_swimlane(version, lanes, lang="en")
    rework = [e for e in nb.edges if e.rework]
    assert [(e.source, e.target) for e in rework] == [("fix_docs", "check")]
    outcome = {(e.source, e.target): e.label for e in nb.edges}
    assert outcome[("check", "fix_docs")] == "ufullstendig"
    assert outcome[("check", "approve")] == "komplett"
    assert {(e.source, e.target): e.label for e in en.edges}[("check", "fix_docs")] == "incomplete"
    assert nb.node("start").kind is StepKind.START
    assert "oppgaver" in nb.subtitle and "tasks" in en.subtitle


def test_step_numbers_and_names_from_the_language() -> None:
    version = make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "a", "kind": "task", "name": {"nb": "Søknad", "en": "Application"}},
            {"id": "end", "kind": "end"},
        ],
        [{"from": "start", "to": "a"}, {"from": "a", "to": "end"}],
    )
    assert extract_swimlane(version).node("a").label == "Søknad"
    assert extract_swimlane(version, lang="en").node("a").label == "Application"
    assert [extract_swimlane(version).node(s).number for s in ("start", "a", "end")] == [
        None,
        1,
        None,
    ]


def test_duplicate_registrations_waste_and_external_waits_are_on_the_nodes() -> None:
    version = make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "a", "kind": "task", "registers": ["household", "income"]},
            {"id": "b", "kind": "task", "lane": "nav", "registers": ["household"],
             "wastes": ["overprocessing", "waiting"], "external_wait": True, "wait_days": [2, 4]},
            {"id": "end", "kind": "end", "lane": "nav"},
        ],
        [{"from": "start", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "end"}],
    )  # fmt: skip
    diagram = extract_swimlane(version)
    assert diagram.node("a").duplicates == ("household",)
    assert diagram.node("b").duplicates == ("household",)
    assert diagram.node("b").wastes == ("overprocessing", "waiting")
    assert diagram.node("b").external_wait and diagram.node("b").wait_days == 3.0


def test_before_after_marks_new_changed_and_removed_steps(lanes: LaneCatalog) -> None:
    before, after = branching_version(), redesigned_branching_version()
    diagram = extract_comparison(before, after, lanes)
    marks = {n.id: n.mark for n in diagram.nodes}
    assert marks["digital_check"] is Mark.NEW
    assert marks["intake"] is Mark.CHANGED
    assert marks["fix"] is Mark.REMOVED
    assert marks["pay"] is Mark.NONE
    assert "touch_minutes" in diagram.node("intake").changed_fields
    ghosts = {(e.source, e.target) for e in diagram.edges if e.ghost}
    assert ghosts == {("assess", "fix"), ("fix", "assess")}
    assert all(e.handoff is None for e in diagram.edges if e.ghost)
    assert diagram.node("fix").sub_row >= 1
    assert diagram.node("fix").number is None
    assert len([e for e in diagram.edges if e.handoff]) == len(handoffs(after))


def test_headline_deltas_equal_the_design_metrics(lanes: LaneCatalog) -> None:
    before, after = branching_version(), redesigned_branching_version()
    diagram = extract_comparison(before, after, lanes, lang="en")
    m0, m1 = design_metrics(before, lanes=lanes), design_metrics(after, lanes=lanes)
    figures = {d.label: (d.before, d.after) for d in diagram.deltas}
    assert figures["handoffs"] == (
        round(m0["expected_handoffs"], 1),
        round(m1["expected_handoffs"], 1),
    )
    assert figures["lead time"] == (round(m0["lead_days"], 1), round(m1["lead_days"], 1))
    assert set(figures) == {"handoffs", "transactions", "lead time"}


def test_observed_overlay_carries_the_measured_waits(lanes: LaneCatalog) -> None:
    diagram = extract_swimlane(
        linear_version(),
        lanes,
        observed_step_waits={"a": 1.5, "b": 4.0},
        observed_handoff_waits={("housing_office", "nav"): 2.5},
    )
    assert diagram.wait_scale is not None and diagram.wait_scale.max_days == 4.0
    assert diagram.node("b").observed_wait_days == 4.0
    assert diagram.handoff_edges[0].observed_wait_days == 2.5
    assert extract_swimlane(linear_version()).wait_scale is None


@pytest.mark.parametrize(
    "version",
    [branching_version(), decision_version(rework=True), generated_version(200)],
    ids=["branching", "decision", "generated200"],
)
def test_no_two_steps_share_a_slot(version) -> None:  # type: ignore[no-untyped-def]
    diagram = extract_swimlane(version)
    slots = [(n.lane, n.depth, n.sub_row) for n in diagram.nodes]
    assert len(slots) == len(set(slots))


def test_depth_is_the_longest_path_and_rework_is_ignored() -> None:
    diagram = extract_swimlane(decision_version(rework=True))
    depth = {n.id: n.depth for n in diagram.nodes}
    assert depth == {"start": 0, "check": 1, "fix_docs": 2, "approve": 2, "end": 3}


def test_the_less_likely_branch_drops_below_in_its_lane() -> None:
    graph = nx.DiGraph()
    graph.add_nodes_from((n, {"lane": "a"}) for n in ("s", "d", "yes", "no", "after"))
    graph.add_edge("s", "d")
    graph.add_edge("d", "yes", probability=0.9)
    graph.add_edge("d", "no", probability=0.1)
    graph.add_edge("yes", "after")
    graph.add_edge("no", "after")
    places = flow_positions(graph, ["a"])
    assert places["yes"] == (2, 0) and places["no"] == (2, 1) and places["after"] == (3, 0)
