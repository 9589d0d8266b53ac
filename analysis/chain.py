"""The flow graph as an absorbing Markov chain, and its parallel blocks.

Expected values of a version come from one linear solve: with ``W[u, v]`` the weight of edge
u → v, the expected visits ``x`` satisfy ``(I − W)ᵀ x = e_start``. Decision edges weigh their
probability; every other edge weighs 1, except edges *into* a join, which weigh
1 / (number of incoming edges) so that a join is visited once per visit of its split. End steps
have no outgoing edges, so they absorb. Rework loops are ordinary edges here, hence included.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from boflyt.models.definition import Version
from boflyt.models.errors import DefinitionError, Problem
from boflyt.models.vocabulary import StepKind

__all__ = ["ParallelBlock", "absorption", "expected_visits", "parallel_blocks"]

Edges = dict[str, dict[str, float]]


@dataclass(frozen=True)
class ParallelBlock:
    """A parallel split, its matching join, and the steps strictly inside each branch."""

    split: str
    join: str
    entries: tuple[str, ...]
    """The first step of each branch (the join itself for an empty branch)."""
    branches: tuple[frozenset[str], ...]

    @property
    def inside(self) -> frozenset[str]:
        """Every step inside the block (the split and the join excluded)."""
        return frozenset().union(*self.branches)


def _singular(version: Version, what: str) -> DefinitionError:
    problem = Problem(
        file=version.key,
        line=0,
        where="transitions",
        message=f"{what}: some loop can never be left (its exits have probability 0)",
    )
    return DefinitionError([problem])


def _solve(version: Version, matrix: np.ndarray, rhs: np.ndarray, what: str) -> np.ndarray:
    try:
        solution = np.linalg.solve(matrix, rhs)
    except np.linalg.LinAlgError as exc:
        raise _singular(version, what) from exc
    if not np.all(np.isfinite(solution)):
        raise _singular(version, what)
    return np.asarray(solution, dtype=float)


def expected_visits(version: Version) -> dict[str, float]:
    """Expected number of times each step is visited per case, loops included, exactly.

    Solves ``(I − W)ᵀ v = e_start`` (see the module docstring for the edge weights).

    Raises:
        DefinitionError: when the version has no start step, or a loop can never be left.

    >>> from tests.factories import make_version
    >>> v = make_version(
    ...     [{"id": "start", "kind": "start"}, {"id": "check", "kind": "decision"},
    ...      {"id": "end", "kind": "end"}],
    ...     [{"from": "start", "to": "check"},
    ...      {"from": "check", "to": "check", "outcome": "again", "probability": 0.2,
    ...       "rework": True},
    ...      {"from": "check", "to": "end", "outcome": "ok", "probability": 0.8}])
    >>> round(expected_visits(v)["check"], 6)
    1.25
    """
    ids = [step.id for step in version.steps]
    index = {step_id: i for i, step_id in enumerate(ids)}
    start = [step.id for step in version.steps if step.kind is StepKind.START]
    if not start:
        raise DefinitionError([Problem(version.key, 0, "steps", "no start step")])
    incoming = {step_id: 0 for step_id in ids}
    for t in version.transitions:
        incoming[t.target] = incoming.get(t.target, 0) + 1
    weights = np.zeros((len(ids), len(ids)))
    for t in version.transitions:
        if t.source not in index or t.target not in index:
            continue
        share = 1.0 / incoming[t.target] if version.step(t.target).kind is StepKind.JOIN else 1.0
        weights[index[t.source], index[t.target]] += t.p * share
    rhs = np.zeros(len(ids))
    rhs[index[start[0]]] = 1.0
    visits = _solve(version, (np.eye(len(ids)) - weights).T, rhs, "expected visits")
    return {step_id: float(visits[index[step_id]]) for step_id in ids}


def absorption(version: Version, edges: Edges, nodes: list[str], targets: set[str]) -> np.ndarray:
    """Probability, from each of ``nodes``, of reaching any of ``targets`` along ``edges``.

    ``edges[u][v]`` is the (possibly sub-stochastic) weight of u → v; mass that leaves
    ``nodes`` other than into ``targets`` is lost. Raises :class:`DefinitionError` when a loop
    can never be left.
    """
    index = {node: i for i, node in enumerate(nodes)}
    inner = np.zeros((len(nodes), len(nodes)))
    exits = np.zeros(len(nodes))
    for u in nodes:
        for v, w in edges.get(u, {}).items():
            if v in targets:
                exits[index[u]] += w
            elif v in index:
                inner[index[u], index[v]] += w
    return _solve(version, np.eye(len(nodes)) - inner, exits, "absorption probability")


def _reach(successors: dict[str, list[str]], first: str, stop: str) -> dict[str, int]:
    """Breadth-first distances from ``first``, not passing beyond ``stop``."""
    seen = {first: 0}
    queue = deque([first])
    while queue:
        node = queue.popleft()
        if node == stop:
            continue
        for nxt in successors.get(node, []):
            if nxt not in seen:
                seen[nxt] = seen[node] + 1
                queue.append(nxt)
    return seen


def parallel_blocks(version: Version) -> list[ParallelBlock]:
    """Every parallel split with its matching join, innermost blocks first.

    The matching join is the join reachable from every branch (rework edges ignored) at the
    smallest total distance. Splits without a reachable join are left out (validation reports
    them).
    """
    successors: dict[str, list[str]] = {}
    for t in version.transitions:
        if not t.rework:
            successors.setdefault(t.source, []).append(t.target)
    joins = {step.id for step in version.steps if step.kind is StepKind.JOIN}
    blocks: list[ParallelBlock] = []
    for step in version.steps:
        if step.kind is not StepKind.PARALLEL:
            continue
        reach = [_reach(successors, first, "") for first in successors.get(step.id, [])]
        common = [j for j in joins if all(j in r for r in reach)]
        if not reach or not common:
            continue
        join = min(common, key=lambda j: (sum(r[j] for r in reach), j))
        branches = tuple(
            frozenset(_reach(successors, first, join)) - {join, step.id}
            for first in successors[step.id]
        )
        entries = tuple(successors[step.id])
        blocks.append(ParallelBlock(step.id, join, entries, branches))
    return sorted(blocks, key=lambda b: (len(b.inside), b.split))
