"""The networkx view of a version, derived handoffs and the flow order."""

from __future__ import annotations

from boflyt.engine.definition.graph import end_steps, flow_order, handoffs, start_steps, to_graph
from tests.factories import chain, decision_version, linear_version, make_version, plain_steps


def test_graph_has_one_node_per_step_and_one_edge_per_transition() -> None:
    graph = to_graph(decision_version())
    assert set(graph.nodes) == {"start", "check", "fix_docs", "approve", "end"}
    assert graph.number_of_edges() == 5
    assert graph.nodes["fix_docs"]["step"].lane == "tenant"
    assert graph.edges["check", "approve"]["transition"].probability == 0.8


def test_handoffs_are_transitions_between_owning_lanes() -> None:
    found = handoffs(decision_version())
    assert [(h.source, h.target, h.from_lane, h.to_lane) for h in found] == [
        ("check", "approve", "housing_office", "nav"),
        ("check", "fix_docs", "housing_office", "tenant"),
        ("fix_docs", "check", "tenant", "housing_office"),
    ]
    assert found[0].channel == "email"  # the channel of the step the case leaves
    assert found[2].channel is None


def test_loop_inside_one_lane_has_no_handoffs() -> None:
    assert handoffs(decision_version(fix_lane="housing_office"))[0].source == "check"
    assert len(handoffs(decision_version(fix_lane="housing_office"))) == 1


def test_start_and_end_steps() -> None:
    version = linear_version()
    assert [s.id for s in start_steps(version)] == ["start"]
    assert [s.id for s in end_steps(version)] == ["end"]


def test_flow_order_skips_rework_loops_and_follows_the_file_on_ties() -> None:
    for rework in (True, False):  # an unmarked loop is broken where it closes
        order = [s.id for s in flow_order(decision_version(rework=rework))]
        assert order == ["start", "check", "fix_docs", "approve", "end"]


def test_flow_order_puts_a_step_after_everything_that_leads_to_it() -> None:
    # Declared out of order: the end first, the start last.
    version = make_version(
        plain_steps(end="end", second="task", first="task", start="start"),
        chain("start", "first", "second", "end"),
    )
    assert [s.id for s in flow_order(version)] == ["start", "first", "second", "end"]


def test_flow_order_lists_unreachable_steps_last() -> None:
    version = make_version(
        plain_steps(start="start", orphan="task", end="end"), chain("start", "end")
    )
    assert [s.id for s in flow_order(version)] == ["start", "end", "orphan"]
