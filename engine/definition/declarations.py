"""The rules a version declares about itself: ``order:`` rules, outcome metrics, deadlines.

Checked by :func:`~boflyt.engine.definition.validate.validate` after the graph rules: every
declared order must hold on every path from the start (no ``after`` step without its ``before``
first), outcome metrics must have distinct ids and name steps of the version, and a step's
deadline must sit on a step that becomes a work item and start its clock (``from``) at an
earlier step. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from boflyt.engine.definition.check import Check
from boflyt.engine.definition.problems import did_you_mean
from boflyt.engine.definition.safe_yaml import PathKey
from boflyt.models.errors import Problem
from boflyt.models.vocabulary import StepKind

__all__ = ["WORK_KINDS", "deadline_problems", "order_problems", "outcome_problems"]

WORK_KINDS = (StepKind.TASK, StepKind.DECISION, StepKind.WAIT)
"""The kinds of step that become work items someone completes, so may carry a deadline."""


def _unknown_step(check: Check, path: PathKey, step_id: str) -> Problem | None:
    if step_id in check.index:
        return None
    hint = did_you_mean(step_id, sorted(check.index))
    return check.at(path, f"unknown step '{step_id}'{hint or '; known steps: ' + _steps(check)}")


def _steps(check: Check) -> str:
    return ", ".join(sorted(check.index))


def _passed(check: Check) -> dict[str, frozenset[str]]:
    """Per step the start reaches: the steps every case has passed when it gets there (itself
    included). A join waits for all its branches, so it has passed what each of them has; any
    other step only what all its ways in have in common (dominance, as a fixed point)."""
    starts = [s.id for s in check.version.steps if s.kind is StepKind.START]
    if len(starts) != 1:
        return {}
    graph, start = check.graph, starts[0]
    later = sorted(nx.descendants(graph, start) - {start}, key=check.index.__getitem__)
    passed = {node: frozenset([start, *later]) for node in later} | {start: frozenset(starts)}
    changed = True
    while changed:
        changed = False
        for node in later:
            edges = graph.in_edges(node, data="transition")
            ways = [(passed[u], t.rework) for u, _, t in edges if u in passed]
            if check.version.step(node).kind is StepKind.JOIN:
                new = frozenset().union(*(steps for steps, back in ways if not back))
                new = new.intersection(*(steps for steps, back in ways if back))
            else:
                new = frozenset.intersection(*(steps for steps, _ in ways))
            if new | {node} != passed[node]:
                passed[node], changed = new | {node}, True
    return passed


def _bypass(check: Check, before: str, after: str) -> list[str]:
    """A path from the start to ``after`` that never passes ``before`` (the shortest)."""
    start = next(s.id for s in check.version.steps if s.kind is StepKind.START)
    avoiding = nx.subgraph_view(check.graph, filter_node=lambda node: node != before)
    path: list[str] = nx.shortest_path(avoiding, start, after)
    return path


def order_problems(check: Check) -> Iterator[Problem]:
    """Each declared order holds on every path: no ``after`` step without ``before`` first."""
    passed = _passed(check) if check.version.order else {}
    for number, rule in enumerate(check.version.order):
        bad = _unknown_step(check, ("order", number, "before"), rule.before)
        if bad is not None:
            yield bad
        for k, after in enumerate(rule.after):
            place: PathKey = ("order", number, "after", k)
            unknown = _unknown_step(check, place, after)
            if unknown is not None:
                yield unknown
            elif after == rule.before:
                yield check.at(place, f"'{after}' cannot come after itself")
            elif bad is None and after in passed and rule.before not in passed[after]:
                path = " -> ".join(_bypass(check, rule.before, after))
                yield check.at(
                    place,
                    f"'{after}' can be reached without '{rule.before}' before it: {path}; "
                    f"every path to '{after}' must pass '{rule.before}'",
                )


def outcome_problems(check: Check) -> Iterator[Problem]:
    """Outcome metrics have distinct ids and name steps of the version."""
    seen: dict[str, int] = {}
    for number, metric in enumerate(check.version.outcome_metrics):
        if seen.setdefault(metric.id, number) != number:
            line = check.lines.line(("outcome_metrics", seen[metric.id])) if check.lines else 0
            yield check.at(
                ("outcome_metrics", number, "id"),
                f"duplicate outcome metric id '{metric.id}'; first on line {line}",
            )
        for k, step_id in enumerate(metric.steps):
            unknown = _unknown_step(check, ("outcome_metrics", number, "steps", k), step_id)
            if unknown is not None:
                yield unknown


def deadline_problems(check: Check) -> Iterator[Problem]:
    """A deadline sits on a task, decision or wait step, and its ``from`` names an earlier step:
    one from which the step can be reached without going back over a rework transition."""
    forward: nx.DiGraph | None = None
    for number, step in enumerate(check.version.steps):
        deadline = step.deadline
        if deadline is None:
            continue
        if step.kind not in WORK_KINDS:
            kinds = ", ".join(kind.value for kind in WORK_KINDS)
            yield check.at(
                ("steps", number, "deadline"),
                f"a deadline on {step.kind.value} step '{step.id}', which never waits for "
                f"anyone; allowed on steps of kind {kinds}",
            )
        if deadline.start is None:
            continue
        place: PathKey = ("steps", number, "deadline", "from")
        unknown = _unknown_step(check, place, deadline.start)
        if unknown is not None:
            yield unknown
            continue
        if deadline.start == step.id:
            yield check.at(
                place,
                f"'{step.id}' cannot start its own deadline; name an earlier step whose "
                "completion starts the clock, or leave 'from' out to count from when the step "
                "becomes ready",
            )
            continue
        if forward is None:
            forward = nx.DiGraph(check.graph)
            forward.remove_edges_from([(t.source, t.target) for _, t in check.edges() if t.rework])
        if step.id in check.graph and not nx.has_path(forward, deadline.start, step.id):
            yield check.at(
                place,
                f"'{deadline.start}' is not an earlier step of '{step.id}': no path leads from "
                f"it to '{step.id}' (rework transitions aside); 'from' names a step whose "
                "completion comes before this step",
            )
