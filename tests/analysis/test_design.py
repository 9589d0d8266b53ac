"""Design metrics on hand-built graphs, with every expected value computed by hand."""

from __future__ import annotations

import random
from collections import deque
from pathlib import Path

import pytest

from boflyt.analysis.design import (
    design_metrics,
    expected_visits,
    lead_time,
    likely_path,
    rework_probability,
)
from boflyt.engine.definition.load import load_library
from boflyt.models.definition import Lane, LaneCatalog, Text, Version
from boflyt.models.errors import DefinitionError
from boflyt.models.vocabulary import StepKind
from tests.factories import fork, linear_version, make_version, outcomes, plain_steps

LANES = ("housing_office", "nav", "accounting", "tenant")
PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def loop_version() -> Version:
    """start → check ⇄ fix (p = 0.2, rework) ; check → end (p = 0.8). fix is in nav."""
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "check", "kind": "decision", "touch_minutes": 45, "wait_days": 2,
             "complete_accurate": 90, "extra_transactions": 1},
            {"id": "fix", "kind": "task", "lane": "nav", "touch_minutes": 90, "wait_days": 4,
             "complete_accurate": 80},
            {"id": "end", "kind": "end"},
        ],
        checked_with_fix(0.2, then="end", outcome="complete"),
        lanes=LANES,
    )  # fmt: skip


def checked_with_fix(p_missing: float, *, then: str, outcome: str) -> list[dict[str, object]]:
    """start → check; check's ``missing`` (``p_missing``) goes to fix and back (rework), its
    ``outcome`` (the rest) to ``then``."""
    return [
        {"from": "start", "to": "check"},
        {"from": "check", "to": "fix", "outcome": "missing", "probability": p_missing,
         "rework": True},
        {"from": "check", "to": then, "outcome": outcome, "probability": 1 - p_missing},
        {"from": "fix", "to": "check"},
    ]  # fmt: skip


def parallel_version(*, loop_in_a: float | None = None) -> Version:
    """start → split → a (nav) ‖ b (accounting) → join → end; all but a, b in housing_office.

    With ``loop_in_a``, a is a decision that goes back to itself with that probability.
    """
    a_kind = "decision" if loop_in_a is not None else "task"
    transitions = [
        {"from": "start", "to": "split"},
        {"from": "split", "to": "a"},
        {"from": "split", "to": "b"},
        {"from": "b", "to": "join"},
        {"from": "join", "to": "end"},
    ]
    if loop_in_a is None:
        transitions.append({"from": "a", "to": "join"})
    else:
        transitions += [
            {"from": "a", "to": "a", "outcome": "redo", "probability": loop_in_a, "rework": True},
            {"from": "a", "to": "join", "outcome": "ok", "probability": 1 - loop_in_a},
        ]
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "split", "kind": "parallel"},
            {"id": "a", "kind": a_kind, "lane": "nav", "touch_minutes": 45, "wait_days": 2},
            {"id": "b", "kind": "task", "lane": "accounting", "touch_minutes": 90,
             "wait_days": 5},
            {"id": "join", "kind": "join"},
            {"id": "end", "kind": "end"},
        ],
        transitions,
        lanes=LANES,
    )  # fmt: skip


def decision_version() -> Version:
    """start → d (decision) → x (nav, p = 0.3) | y (housing_office, p = 0.7) → end."""
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "d", "kind": "decision", "extra_transactions": 2, "touch_minutes": 10},
            {"id": "x", "kind": "task", "lane": "nav", "extra_transactions": 1,
             "touch_minutes": 100},
            {"id": "y", "kind": "task", "extra_transactions": 3, "touch_minutes": 20},
            {"id": "end", "kind": "end"},
        ],
        [
            {"from": "start", "to": "d"},
            *outcomes("d", refer=("x", 0.3), keep=("y", 0.7)),
            {"from": "x", "to": "end"},
            {"from": "y", "to": "end"},
        ],
        lanes=LANES,
    )  # fmt: skip


def test_a_loop_taken_with_p_0_2_is_visited_1_25_times() -> None:
    visits = expected_visits(loop_version())
    # check: v = 1 + 0.2 v  →  v = 1 / 0.8 = 1.25 ; fix: 0.2 × 1.25 = 0.25
    expected = {"check": 1.25, "fix": 0.25, "start": 1.0, "end": 1.0}
    assert {step: visits[step] for step in expected} == pytest.approx(expected)


def test_loop_handoffs_transactions_and_times() -> None:
    m = design_metrics(loop_version())
    # handoff edges check→fix (1.25 × 0.2 = 0.25) and fix→check (0.25 × 1) = 0.5
    assert m["expected_handoffs"] == pytest.approx(0.5)
    # + extra transactions of check: 1.25 × 1 = 1.25  →  1.75
    assert m["expected_transactions"] == pytest.approx(1.75)
    # touch: 1.25 × 45 + 0.25 × 90 = 56.25 + 22.5 = 78.75 min
    assert m["touch_minutes"] == pytest.approx(78.75)
    # wait: 1.25 × 2 + 0.25 × 4 = 3.5 wd ; lead: 3.5 + 78.75 / 450 = 3.675 wd
    assert m["waiting_days"] == pytest.approx(3.5)
    assert m["lead_days"] == pytest.approx(3.675)
    # activity ratio: 78.75 / (3.675 × 450) = 4.7619 %
    assert m["activity_ratio"] == pytest.approx(100 * 78.75 / (3.675 * 450))
    # rolled %C&A: 0.9^1.25 × 0.8^0.25 = 0.876606 × 0.945742 = 82.904 %
    assert m["rolled_ca"] == pytest.approx(82.904, abs=0.001)
    # at least one rework edge: exactly the loop's probability
    assert m["rework_probability"] == pytest.approx(20.0)


def test_parallel_split_into_two_lanes_gives_two_handoffs_out_and_two_into_the_join() -> None:
    version = parallel_version()
    visits = expected_visits(version)
    assert visits["join"] == pytest.approx(1.0)  # (1 × ½) + (1 × ½): once per split
    assert visits["end"] == pytest.approx(1.0)
    m = design_metrics(version)
    # split→a (ho→nav), split→b (ho→accounting), a→join (nav→ho), b→join (accounting→ho)
    assert m["expected_handoffs"] == pytest.approx(4.0)
    assert m["likely_path_handoffs"] == 4


def test_lead_time_of_a_parallel_block_is_its_longest_branch() -> None:
    # a: 2 + 45/450 = 2.1 wd ; b: 5 + 90/450 = 5.2 wd ; block = max = 5.2 (not the sum 7.3)
    lead, external = lead_time(parallel_version())
    assert lead == pytest.approx(5.2)
    assert external == 0.0


def test_decision_0_3_0_7_weights_handoffs_and_transactions() -> None:
    m = design_metrics(decision_version())
    # handoffs d→x and x→end, both taken with p = 0.3: 0.6
    assert m["expected_handoffs"] == pytest.approx(0.6)
    # transactions: 0.6 + d 2 + x 0.3 × 1 + y 0.7 × 3 = 0.6 + 2 + 0.3 + 2.1 = 5.0
    assert m["expected_transactions"] == pytest.approx(5.0)
    # touch: 10 + 0.3 × 100 + 0.7 × 20 = 54 min
    assert m["touch_minutes"] == pytest.approx(54.0)
    # most likely path goes through y (0.7) and so has no handoff
    assert m.likely_path == ("start", "d", "y", "end")
    assert m["likely_path_handoffs"] == 0
    assert m["rework_probability"] == 0.0


def test_rework_probability_multiplies_independent_loops() -> None:
    two_loops = make_version(
        plain_steps(start="start", p="decision", q="decision", end="end"),
        [
            {"from": "start", "to": "p"},
            {"from": "p", "to": "p", "outcome": "redo", "probability": 0.2, "rework": True},
            {"from": "p", "to": "q", "outcome": "ok", "probability": 0.8},
            {"from": "q", "to": "p", "outcome": "back", "probability": 0.5, "rework": True},
            {"from": "q", "to": "end", "outcome": "ok", "probability": 0.5},
        ],
    )  # fmt: skip
    # no rework = 0.8 × 0.5 = 0.4  →  P(rework) = 0.6
    assert rework_probability(two_loops) == pytest.approx(0.6)


def test_rework_inside_a_parallel_branch_is_not_diluted_by_the_join() -> None:
    # the branch a loops with p = 0.3; b has no loop: P(no rework) = 0.7 × 1 = 0.7
    assert rework_probability(parallel_version(loop_in_a=0.3)) == pytest.approx(0.3)
    visits = expected_visits(parallel_version(loop_in_a=0.3))
    assert visits["a"] == pytest.approx(1 / 0.7)
    assert visits["join"] == pytest.approx(1.0)


def test_outside_lanes_and_external_waits_are_split_from_controllable_time() -> None:
    version = make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "apply", "kind": "task", "lane": "tenant", "wait_days": 3},
            {"id": "search", "kind": "task", "wait_days": 10, "external_wait": True,
             "touch_minutes": 225},
            {"id": "decide", "kind": "task", "wait_days": 2},
            {"id": "end", "kind": "end"},
        ],
        [{"from": "start", "to": "apply"}, {"from": "apply", "to": "search"},
         {"from": "search", "to": "decide"}, {"from": "decide", "to": "end"}],
        lanes=LANES,
    )  # fmt: skip
    catalog = LaneCatalog(
        lanes=tuple(
            Lane(id=lane, name=Text(nb=lane, en=lane), outside=lane == "tenant") for lane in LANES
        )
    )
    with_catalog = design_metrics(version, lanes=catalog)
    # lead = 3 + (10 + 0.5) + 2 = 15.5 wd ; external = tenant 3 + search 10 = 13
    assert with_catalog["lead_days"] == pytest.approx(15.5)
    assert with_catalog["external_waiting_days"] == pytest.approx(13.0)
    assert with_catalog["controllable_waiting_days"] == pytest.approx(2.0)
    assert with_catalog["controllable_lead_days"] == pytest.approx(2.5)
    # without the catalog only the external_wait flag counts
    assert design_metrics(version)["controllable_lead_days"] == pytest.approx(5.5)


def test_joint_step_counts_its_full_touch_time_for_each_lane() -> None:
    version = make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "meet", "kind": "task", "joint_with": ["nav"], "touch_minutes": 60},
            {"id": "end", "kind": "end"},
        ],
        [{"from": "start", "to": "meet"}, {"from": "meet", "to": "end"}],
    )
    assert design_metrics(version).workload == {"housing_office": 60.0, "nav": 60.0}


def test_steps_by_kind_value_and_duplicates() -> None:
    version = make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "a", "kind": "task", "value": "waste", "registers": ["income", "id"],
             "wastes": ["waiting", "defects"]},
            {"id": "b", "kind": "task", "lane": "nav", "value": "necessary",
             "registers": ["income"]},
            {"id": "c", "kind": "task", "lane": "accounting", "value": "value_adding",
             "registers": ["income", "id"], "wastes": ["waiting"]},
            {"id": "end", "kind": "end"},
        ],
        [{"from": "start", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "c"},
         {"from": "c", "to": "end"}],
        lanes=LANES,
    )  # fmt: skip
    m = design_metrics(version)
    assert m.steps_by_kind == {"start": 1, "task": 3, "end": 1}
    assert m["work_steps"] == 3
    assert (m["steps_value_adding"], m["steps_necessary"], m["steps_waste"]) == (1, 1, 1)
    # income registered 3 times (+2), id twice (+1)
    assert m["duplicate_registrations"] == 3
    assert m.wastes["waiting"] == 2 and m.wastes["defects"] == 1 and m["waste_tags"] == 3
    assert m.as_dict()["values"]["expected_handoffs"] == pytest.approx(3.0)


def test_linear_version_figures() -> None:
    m = design_metrics(linear_version())
    assert m["expected_handoffs"] == 1.0
    assert m["lead_days"] == pytest.approx(3.2)  # (1 + 30/450) + (2 + 60/450)
    assert likely_path(linear_version())[0] == ["start", "a", "b", "end"]


def test_a_loop_that_can_never_be_left_is_a_definition_error() -> None:
    stuck = make_version(
        [{"id": "start", "kind": "start"}, {"id": "d", "kind": "decision"},
         {"id": "end", "kind": "end"}],
        [{"from": "start", "to": "d"},
         {"from": "d", "to": "d", "outcome": "again", "probability": 1.0, "rework": True},
         {"from": "d", "to": "end", "outcome": "done", "probability": 0.0}],
    )  # fmt: skip
    with pytest.raises(DefinitionError, match="can never be left"):
        expected_visits(stuck)


# --- the design expectation agrees with runs simulated by hand ---------------------------------


def _walk(version: Version, rng: random.Random) -> int:
    """One case as tokens over the graph: decisions draw, splits fork, joins wait for all."""
    steps = {s.id: s for s in version.steps}
    out: dict[str, list[tuple[str, float]]] = {}
    incoming: dict[str, int] = {}
    for t in version.transitions:
        out.setdefault(t.source, []).append((t.target, t.p))
        incoming[t.target] = incoming.get(t.target, 0) + 1
    start = next(s.id for s in version.steps if s.kind is StepKind.START)
    tokens, arrived, count = deque([start]), dict.fromkeys(steps, 0), 0
    while tokens:
        node = tokens.popleft()
        edges = out.get(node, [])
        if steps[node].kind is StepKind.DECISION:
            u, acc = rng.random(), 0.0
            for target, p in edges:
                acc += p
                if u < acc:
                    edges = [(target, p)]
                    break
        for target, _ in edges:
            count += steps[node].lane != steps[target].lane
            if steps[target].kind is StepKind.JOIN:
                arrived[target] += 1
                if arrived[target] < incoming[target]:
                    continue
                arrived[target] = 0
            tokens.append(target)
    return count


def branchy_version() -> Version:
    """A decision, a rework loop across lanes and a parallel block, all in one."""
    return make_version(
        [
            {"id": "start", "kind": "start"},
            {"id": "check", "kind": "decision"},
            {"id": "fix", "kind": "task", "lane": "tenant"},
            {"id": "route", "kind": "decision", "lane": "nav"},
            {"id": "split", "kind": "parallel"},
            {"id": "a", "kind": "task", "lane": "nav"},
            {"id": "b", "kind": "task", "lane": "accounting"},
            {"id": "join", "kind": "join"},
            {"id": "short", "kind": "task", "lane": "accounting"},
            {"id": "end", "kind": "end"},
        ],
        [
            *checked_with_fix(0.35, then="route", outcome="ok"),
            *outcomes("route", full=("split", 0.6), short=("short", 0.4)),
            *fork("split", ("a", "b"), "join"),
            {"from": "join", "to": "end"},
            {"from": "short", "to": "end"},
        ],
        lanes=LANES,
    )  # fmt: skip


@pytest.mark.parametrize("version", [loop_version(), decision_version(), branchy_version()])
def test_mean_handoffs_of_hand_simulated_runs_converge_to_the_design_expectation(
    version: Version,
) -> None:
    rng = random.Random(20250106)
    runs = [_walk(version, rng) for _ in range(20_000)]
    mean = sum(runs) / len(runs)
    sd = (sum((r - mean) ** 2 for r in runs) / (len(runs) - 1)) ** 0.5
    expected = design_metrics(version)["expected_handoffs"]
    assert abs(mean - expected) < 4 * sd / len(runs) ** 0.5 + 1e-9


# --- the seed processes ----------------------------------------------------------------------


def _seed_pairs() -> list[tuple[Version, Version, LaneCatalog]]:
    library = load_library(PROCESSES)
    return [
        (library.get(p, 1), library.get(p, 2), library.lanes)
        for p in library.processes()
        if {v.version for v in library.versions(p)} >= {1, 2}
    ]


SEEDS = _seed_pairs()


def test_there_are_three_seed_processes() -> None:
    assert len(SEEDS) == 3


@pytest.mark.parametrize("v1, v2, lanes", SEEDS, ids=[v1.process for v1, _, _ in SEEDS])
def test_lean_version_has_fewer_handoffs_transactions_duplicates_and_shorter_lead(
    v1: Version, v2: Version, lanes: LaneCatalog
) -> None:
    before, after = design_metrics(v1, lanes=lanes), design_metrics(v2, lanes=lanes)
    assert after["expected_handoffs"] < before["expected_handoffs"]
    assert after["expected_transactions"] < before["expected_transactions"]
    assert after["duplicate_registrations"] < before["duplicate_registrations"]
    assert after["controllable_lead_days"] < before["controllable_lead_days"]


@pytest.mark.parametrize("v1, v2, lanes", SEEDS, ids=[v1.process for v1, _, _ in SEEDS])
def test_seed_visits_are_consistent(v1: Version, v2: Version, lanes: LaneCatalog) -> None:
    for version in (v1, v2):
        visits = expected_visits(version)
        ends = sum(visits[s.id] for s in version.steps if s.kind is StepKind.END)
        assert ends == pytest.approx(1.0)  # every case ends exactly once
        assert all(v >= -1e-12 for v in visits.values())
        m = design_metrics(version, lanes=lanes)
        assert 0 <= m["rework_probability"] <= 100 and 0 < m["rolled_ca"] <= 100
        assert (
            m["controllable_lead_days"]
            <= m["lead_days"]
            <= m["waiting_days"] + m["touch_minutes"] / 450 + 1e-9
        )
