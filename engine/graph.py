"""The networkx view of a version, and the handoffs derived from it (never declared).

A handoff is a transition whose two steps lie in different lanes (owning lanes). The semantic
diff of two versions lives in :mod:`engine.diff`.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from models.definition import Step, Transition, Version
from models.vocabulary import StepKind

__all__ = [
    "Handoff",
    "end_steps",
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

    Node attribute ``step`` holds the :class:`~models.definition.Step`; edge attribute
    ``transition`` the :class:`~models.definition.Transition`. Transitions naming unknown
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
