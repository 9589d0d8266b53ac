"""Named routes: what completing a step does, compiled once per version."""

from __future__ import annotations

import pytest

from boflyt.engine.case.flow import compile_flow
from boflyt.engine.case.routes import MoveKind, Route, arrive
from boflyt.models.errors import DefinitionError
from tests.factories import (
    BRANCHING_OUTSIDE,
    branching_version,
    chain,
    linear_version,
    make_version,
    plain_steps,
)


def _moves(route: Route) -> list[tuple[str, str]]:
    return [(move.kind.name, move.step.id) for move in route.moves]


def test_a_route_names_its_handoffs_ready_steps_and_end():
    flow = compile_flow(linear_version())
    assert _moves(flow.routes[("start", None)]) == [("READY", "a")]
    after_a = flow.routes[("a", None)]
    assert _moves(after_a) == [("HANDOFF", "b"), ("READY", "b")]
    assert after_a.moves[0].source is flow.steps["a"]
    assert (after_a.items, after_a.finishes, after_a.ready()) == (1, False, ((1, "b"),))
    after_b = flow.routes[("b", None)]
    assert _moves(after_b) == [("FINISH", "end")]
    assert after_b.finishes and after_b.after({}) is None


def test_a_decision_has_a_route_per_outcome_and_a_split_readies_every_branch():
    flow = compile_flow(branching_version(), BRANCHING_OUTSIDE)
    assert {o for s, o in flow.routes if s == "assess"} == {"approve", "reject", "more_info"}
    approve = flow.routes[("assess", "approve")]
    assert [m.kind for m in approve.moves if m.kind is not MoveKind.HANDOFF] == [
        MoveKind.COMPLETE,  # the parallel split
        MoveKind.READY,
        MoveKind.READY,
    ]
    assert {step for _, step in approve.ready()} == {"contract", "pay"}


def test_a_route_stops_at_a_join_and_its_arrivals_choose_what_follows():
    flow = compile_flow(branching_version(), BRANCHING_OUTSIDE)
    pay = flow.routes[("pay", None)]
    assert (pay.join, pay.reaches) == ("join", ("join",))
    assert pay.inputs == {"pay", "contract"}
    arrivals: dict[str, frozenset[str]] = {}
    arrive(arrivals, "pay", pay.reaches)
    assert pay.after(arrivals) is pay.waiting and pay.waiting is not None
    assert pay.waiting.moves == ()
    arrive(arrivals, "contract", flow.routes[("contract", None)].reaches)
    fired = pay.after(arrivals)
    assert fired is pay.fired and fired is not None
    assert _moves(fired)[0] == ("COMPLETE", "join") and fired.finishes
    arrive(arrivals, "join", ())
    assert arrivals == {}, "a join that completes starts afresh"


def test_every_route_is_numbered_by_its_place():
    flow = compile_flow(branching_version(), BRANCHING_OUTSIDE)
    assert [route.id for route in flow.every_route] == list(range(len(flow.every_route)))
    for route in flow.routes.values():
        assert all(flow.every_route[r.id] is r for r in route.branches())


def test_automatic_steps_that_loop_are_a_definition_error():
    version = make_version(
        plain_steps(start="start", a="auto", b="auto", t="task", end="end"),
        [
            *chain("start", "a", "b"),
            {"from": "b", "to": "a", "rework": True},
            *chain("b", "t", "end"),
        ],
    )
    with pytest.raises(DefinitionError, match="automatic steps lead back to themselves"):
        compile_flow(version)
