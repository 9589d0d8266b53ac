"""The graph rules of the definition language: every problem of a version at once.

:func:`validate` checks a version that pydantic has already accepted: lanes, ids, one start and
some end, branching, decision outcomes and probabilities, parallel splits and joins,
reachability, cycles and rework, declared orders, outcome metrics and deadlines. Each problem
names its line, its place (``steps[7](nav_assess).lane``), what was found and what is allowed.
Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import networkx as nx

from boflyt.engine.definition.check import Check
from boflyt.engine.definition.declarations import (
    deadline_problems,
    order_problems,
    outcome_problems,
)
from boflyt.engine.definition.graph import to_graph
from boflyt.engine.definition.problems import did_you_mean
from boflyt.engine.definition.safe_yaml import LineMap, PathKey
from boflyt.models.definition import LaneCatalog, Step, Transition, Version
from boflyt.models.errors import Problem
from boflyt.models.vocabulary import StepKind

__all__ = ["PROBABILITY_TOLERANCE", "validate"]

PROBABILITY_TOLERANCE = 1e-6
"""How far a decision's outgoing probabilities may sum from 1."""


# -- graph rules ------------------------------------------------------------------------------


def _known(catalog: LaneCatalog) -> str:
    return ", ".join(sorted(catalog.ids))


def _lane_problems(check: Check) -> Iterator[Problem]:
    listed, catalog = check.version.lanes, check.lanes
    for number, lane in enumerate(listed):
        if catalog.get(lane) is None:
            hint = did_you_mean(lane, catalog.ids)
            yield check.at(
                ("lanes", number), f"unknown lane '{lane}'{hint}; known lanes: {_known(catalog)}"
            )
        elif lane in listed[:number]:
            yield check.at(("lanes", number), f"lane '{lane}' is listed twice")
    for number, step in enumerate(check.version.steps):
        places: list[PathKey] = [("steps", number, "lane")]
        places += [("steps", number, "joint_with", j) for j in range(len(step.joint_with))]
        for path, lane in zip(places, step.lanes, strict=True):
            if catalog.get(lane) is None:
                hint = did_you_mean(lane, catalog.ids)
                yield check.at(path, f"unknown lane '{lane}'{hint}; known lanes: {_known(catalog)}")
            elif lane not in listed:
                yield check.at(
                    path, f"lane '{lane}' is not in this version's lanes: {', '.join(listed)}"
                )
        if step.lane in step.joint_with:
            yield check.at(
                ("steps", number, "joint_with"), f"repeats the step's own lane '{step.lane}'"
            )


def _step_problems(check: Check) -> Iterator[Problem]:
    for number, step in enumerate(check.version.steps):
        first = check.index[step.id]
        if first != number:
            first_line = check.lines.line(("steps", first)) if check.lines is not None else 0
            yield check.at(
                ("steps", number, "id"),
                f"duplicate step id '{step.id}'; first defined on line {first_line}",
            )
    starts = [s.id for s in check.version.steps if s.kind is StepKind.START]
    if not starts:
        yield check.at(("steps",), "no start step; exactly one step must have kind: start")
    elif len(starts) > 1:
        yield check.step_at(
            starts[1], f"several start steps ({', '.join(starts)}); exactly one is allowed"
        )
    if not any(s.kind is StepKind.END for s in check.version.steps):
        yield check.at(("steps",), "no end step; at least one step must have kind: end")
    for number, step in enumerate(check.version.steps):
        for field in ("touch_minutes", "wait_days"):
            duration = getattr(step, field)
            if not all(math.isfinite(x) for x in (duration.low, duration.high, duration.mode or 0)):
                yield check.at(("steps", number, field), "duration is not a finite number")
    version = check.version
    if version.based_on is not None and version.based_on >= version.version:
        yield check.at(
            ("based_on",),
            f"based_on {version.based_on} must name an earlier version than {version.version}",
        )


def _transition_problems(check: Check) -> Iterator[Problem]:
    known = sorted(check.index)
    seen: dict[tuple[str, str], int] = {}
    for number, transition in enumerate(check.version.transitions):
        for end, step_id in (("from", transition.source), ("to", transition.target)):
            if step_id not in check.index:
                hint = did_you_mean(step_id, known)
                listed = hint or f"; known steps: {', '.join(known)}"
                yield check.at(("transitions", number, end), f"unknown step '{step_id}'{listed}")
        pair = (transition.source, transition.target)
        first = seen.setdefault(pair, number)
        if first != number:
            line = check.lines.line(("transitions", first)) if check.lines is not None else 0
            yield check.at(
                ("transitions", number),
                f"duplicate transition {pair[0]} -> {pair[1]}; first on line {line}",
            )
    for number, transition in check.edges():
        source, target = (
            check.version.step(transition.source),
            check.version.step(transition.target),
        )
        if target.kind is StepKind.START:
            yield check.at(
                ("transitions", number, "to"),
                f"transition into start step '{target.id}'; "
                "a start step has no incoming transitions",
            )
        if source.kind is StepKind.END:
            yield check.at(
                ("transitions", number, "from"),
                f"transition out of end step '{source.id}'; "
                "an end step has no outgoing transitions",
            )


def _decision_problems(
    check: Check, step: Step, out: list[tuple[int, Transition]]
) -> Iterator[Problem]:
    if len(out) < 2:
        yield check.step_at(
            step.id,
            f"decision '{step.id}' has {len(out)} outcome(s); a decision needs at least two",
        )
    outcomes: dict[str, int] = {}
    for number, transition in out:
        arrow = f"{transition.source} -> {transition.target}"
        if transition.outcome is None:
            yield check.at(
                ("transitions", number),
                f"transition {arrow} out of decision '{step.id}' has no outcome",
            )
        elif outcomes.setdefault(transition.outcome, number) != number:
            yield check.at(
                ("transitions", number, "outcome"),
                f"outcome '{transition.outcome}' is used twice by decision '{step.id}'",
            )
        if transition.probability is None:
            yield check.at(
                ("transitions", number),
                f"transition {arrow} out of decision '{step.id}' has no probability",
            )
    given = [t for _, t in out if t.probability is not None]
    total = math.fsum(t.p for t in given)
    if out and len(given) == len(out) and abs(total - 1.0) > PROBABILITY_TOLERANCE:
        parts = ", ".join(f"{t.outcome or '?'} {t.p:g} -> {t.target}" for t in given)
        yield check.step_at(
            step.id,
            f"probabilities of decision '{step.id}' sum to {round(total, 9):g}, not 1: {parts}",
        )


def _branching_problems(check: Check) -> Iterator[Problem]:
    for number in check.index.values():
        step = check.version.steps[number]
        out = check.outgoing(step.id)
        if step.kind is StepKind.DECISION:
            yield from _decision_problems(check, step, out)
            continue
        if step.kind is StepKind.PARALLEL:
            if len(out) < 2:
                yield check.step_at(
                    step.id,
                    f"parallel '{step.id}' has {len(out)} branch(es); "
                    "a parallel split needs at least two",
                )
        elif len(out) > 1 and step.kind is not StepKind.END:
            targets = ", ".join(t.target for _, t in out)
            yield check.step_at(
                step.id,
                f"{step.kind.value} step '{step.id}' has {len(out)} outgoing transitions "
                f"(to {targets}); only decision and parallel steps may branch",
            )
        for number, transition in out:
            if transition.probability is not None:
                rule = (
                    "all branches of a parallel split are taken"
                    if step.kind is StepKind.PARALLEL
                    else "only transitions out of a decision carry one"
                )
                yield check.at(
                    ("transitions", number, "probability"),
                    f"probability on a transition out of {step.kind.value} step "
                    f"'{step.id}'; {rule}",
                )


def _forward(check: Check) -> nx.DiGraph:
    """The graph without rework edges: what must be acyclic, and where dominance is judged."""
    forward = nx.DiGraph(check.graph)
    forward.remove_edges_from([(t.source, t.target) for _, t in check.edges() if t.rework])
    return forward


def _dominated_by_parallel(check: Check, forward: nx.DiGraph, start: str, join: str) -> bool:
    dominators = nx.immediate_dominators(forward, start)
    node = join
    while node in dominators and dominators[node] != node:
        node = dominators[node]
        if check.version.step(node).kind is StepKind.PARALLEL:
            return True
    return False


def _join_problems(check: Check, forward: nx.DiGraph) -> Iterator[Problem]:
    starts = [s.id for s in check.version.steps if s.kind is StepKind.START]
    for step in check.version.steps:
        if step.kind is not StepKind.JOIN:
            continue
        incoming = {t.source for _, t in check.edges() if t.target == step.id and not t.rework}
        if len(incoming) < 2:
            yield check.step_at(
                step.id,
                f"join '{step.id}' has {len(incoming)} incoming branch(es); "
                "a join needs at least two",
            )
        if len(starts) != 1 or not nx.has_path(forward, starts[0], step.id):
            continue
        if not _dominated_by_parallel(check, forward, starts[0], step.id):
            yield check.step_at(
                step.id,
                f"join '{step.id}' has no matching parallel split: "
                "no parallel step lies on every path from start to it",
            )


def _reach_problems(check: Check) -> Iterator[Problem]:
    graph = check.graph
    starts = [s.id for s in check.version.steps if s.kind is StepKind.START]
    ends = [s.id for s in check.version.steps if s.kind is StepKind.END]
    reached = set(starts).union(*(nx.descendants(graph, s) for s in starts))
    finishing = set(ends).union(*(nx.ancestors(graph, e) for e in ends))
    for step_id in check.index:
        if starts and step_id not in reached:
            yield check.step_at(
                step_id, f"step '{step_id}' cannot be reached from the start step '{starts[0]}'"
            )
        if ends and step_id not in finishing:
            yield check.step_at(step_id, f"step '{step_id}' cannot reach an end step")


def _first_steps(check: Check, forward: nx.DiGraph) -> set[str] | None:
    """Steps the start reaches without rework transitions; None without exactly one start."""
    starts = [s.id for s in check.version.steps if s.kind is StepKind.START]
    return {starts[0], *nx.descendants(forward, starts[0])} if len(starts) == 1 else None


def _goes_back(forward: nx.DiGraph, first: set[str] | None, source: str, target: str) -> bool:
    """True when ``target`` is an earlier step than ``source``: without rework transitions the
    start reaches ``target``, and ``target`` reaches ``source`` (or is it)."""
    if first is None or source not in first:
        return True  # no flow order to judge by; the start and reach rules report why
    return target in first and (target == source or nx.has_path(forward, target, source))


def _rework_problems(check: Check, forward: nx.DiGraph) -> Iterator[Problem]:
    """A rework edge must close a cycle by going back: to an earlier step in flow order."""
    first = _first_steps(check, forward)
    for number, transition in check.edges():
        if not transition.rework:
            continue
        source, target = pair = (transition.source, transition.target)
        without = nx.subgraph_view(check.graph, filter_edge=lambda a, b, pair=pair: (a, b) != pair)
        if source != target and not nx.has_path(without, target, source):
            yield check.at(
                ("transitions", number, "rework"),
                f"rework transition {source} -> {target} does not loop back: "
                f"'{target}' never leads back to '{source}'",
            )
        elif not _goes_back(forward, first, source, target):
            yield check.at(
                ("transitions", number, "rework"),
                f"rework transition {source} -> {target} does not go back to an earlier step: "
                f"without rework transitions, '{target}' is not on the way from the start to "
                f"'{source}'; rework: true belongs on the transition that returns to an "
                "earlier step",
            )


def _cycle_problems(check: Check, forward: nx.DiGraph) -> Iterator[Problem]:
    order = {pair: n for n, t in check.edges() for pair in [(t.source, t.target)]}
    for component in nx.strongly_connected_components(forward):
        looped = forward.subgraph(component)
        if len(component) == 1 and not nx.number_of_selfloops(looped):
            continue
        first = min(component, key=check.index.__getitem__)
        cycle = [edge[:2] for edge in nx.find_cycle(looped, source=first)]
        path = " -> ".join([cycle[0][0], *(target for _, target in cycle)])
        closing = max(order[edge] for edge in cycle)
        yield check.at(
            ("transitions", closing),
            f"cycle {path} has no rework transition; "
            "mark the transition that loops back with rework: true",
        )


# -- entry point -------------------------------------------------------------------------------


def validate(
    version: Version,
    *,
    lanes: LaneCatalog,
    file: str = "",
    lines: LineMap | None = None,
) -> list[Problem]:
    """Every graph-rule problem of ``version``, sorted by line (an empty list when it is valid).

    ``file`` and ``lines`` (from :func:`boflyt.engine.definition.load.parse_yaml`) only place the
    problems.

    >>> from tests.factories import linear_version
    >>> from models.definition import Lane, LaneCatalog, Text
    >>> ids = ("housing_office", "nav")
    >>> lanes = LaneCatalog(lanes=tuple(Lane(id=i, name=Text(nb=i, en=i)) for i in ids))
    >>> validate(linear_version(), lanes=lanes)
    []
    """
    index: dict[str, int] = {}
    for number, step in enumerate(version.steps):
        index.setdefault(step.id, number)
    tags = {("steps", n): s.id for n, s in enumerate(version.steps)}
    tags |= {
        ("transitions", n): f"{t.source}->{t.target}" for n, t in enumerate(version.transitions)
    }
    tags |= {("order", n): rule.before for n, rule in enumerate(version.order)}
    tags |= {("outcome_metrics", n): m.id for n, m in enumerate(version.outcome_metrics)}
    check = Check(version, lanes, file, lines, tags, index, to_graph(version))
    forward = _forward(check)
    problems = [
        *_lane_problems(check),
        *_step_problems(check),
        *_transition_problems(check),
        *_branching_problems(check),
        *_join_problems(check, forward),
        *_reach_problems(check),
        *_rework_problems(check, forward),
        *_cycle_problems(check, forward),
        *order_problems(check),
        *outcome_problems(check),
        *deadline_problems(check),
    ]
    return sorted(problems)
