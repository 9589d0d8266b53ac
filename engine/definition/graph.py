"""The networkx view of a version, and the handoffs derived from it (never declared).

A handoff is a transition whose two steps lie in different lanes (owning lanes). The semantic
diff of two versions lives in :mod:`boflyt.engine.definition.diff`.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from boflyt.models.definition import Step, Transition, Version
from boflyt.models.vocabulary import StepKind

__all__ = [
    "Handoff",
    "end_steps",
    "flow_order",
    "handoffs",
    "is_handoff",
    "start_steps",
    "to_graph",
]


@dataclass(frozen=True, slots=True)
class Handoff:
    """A transition that crosses from one lane to another."""

    source: str
    target: str
    from_lane: str
    to_lane: str
    channel: str | None
    transition: Transition


def to_graph(version: Version) -> nx.DiGraph:
    """A directed graph with one node per step and one edge per transition.

    Node attribute ``step`` holds the :class:`~boflyt.models.definition.Step`; edge attribute
    ``transition`` the :class:`~boflyt.models.definition.Transition`. Transitions naming unknown
    steps are skipped (validation reports them).

    >>> from tests.factories import linear_version
    >>> sorted(to_graph(linear_version()).edges)
    [('a', 'b'), ('b', 'end'), ('start', 'a')]
    """
    graph: nx.DiGraph = nx.DiGraph(name=version.key)
    for step in version.steps:
        graph.add_node(step.id, step=step)
    for transition in version.transitions:
        if transition.source in graph and transition.target in graph:
            graph.add_edge(transition.source, transition.target, transition=transition)
    return graph


def is_handoff(source: Step, target: Step) -> bool:
    """True when the case moves from one owning lane to another."""
    return source.lane != target.lane


def handoffs(version: Version) -> list[Handoff]:
    """Every transition of ``version`` that crosses lanes, in declaration order."""
    steps = {step.id: step for step in version.steps}
    found: list[Handoff] = []
    for transition in version.transitions:
        source, target = steps.get(transition.source), steps.get(transition.target)
        if source is None or target is None or not is_handoff(source, target):
            continue
        found.append(
            Handoff(
                source=source.id,
                target=target.id,
                from_lane=source.lane,
                to_lane=target.lane,
                channel=source.channel.value if source.channel else None,
                transition=transition,
            )
        )
    return found


def start_steps(version: Version) -> list[Step]:
    return [step for step in version.steps if step.kind is StepKind.START]


def end_steps(version: Version) -> list[Step]:
    return [step for step in version.steps if step.kind is StepKind.END]


def flow_order(version: Version) -> list[Step]:
    """The steps in the order a case meets them: start first, rework loops ignored.

    A topological order of the graph without its ``rework`` transitions and without any other
    edge that closes a cycle (found depth-first from the start); ties follow the order of the
    file. Steps the start cannot reach come last, in file order.

    >>> from tests.factories import linear_version
    >>> [step.id for step in flow_order(linear_version())]
    ['start', 'a', 'b', 'end']
    """
    graph = to_graph(version)
    index = {step.id: i for i, step in enumerate(version.steps)}
    forward = nx.DiGraph()
    forward.add_nodes_from(graph.nodes)
    forward.add_edges_from((u, v) for u, v, t in graph.edges(data="transition") if not t.rework)
    roots = sorted((step.id for step in start_steps(version)), key=index.__getitem__)
    for root in roots:
        forward.remove_edges_from(_back_edges(forward, root, index))
    forward.remove_edges_from(_back_edges(forward, None, index))
    order = nx.lexicographical_topological_sort(forward, key=index.__getitem__)
    reachable = set(roots).union(*(nx.descendants(forward, root) for root in roots))
    ordered = [node for node in order if node in reachable]
    ordered += [step.id for step in version.steps if step.id not in reachable]
    return [version.step(step_id) for step_id in ordered]


def _back_edges(
    graph: nx.DiGraph, root: str | None, index: dict[str, int]
) -> list[tuple[str, str]]:
    """Edges that close a cycle in a depth-first search from ``root`` (all nodes when None)."""
    found: list[tuple[str, str]] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = finished
    roots = [root] if root is not None else sorted(graph.nodes, key=index.__getitem__)
    for start in roots:
        if start in state:
            continue
        stack = [(start, iter(sorted(graph.successors(start), key=index.__getitem__)))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                found.append((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(sorted(graph.successors(child), key=index.__getitem__))))
    return found
