"""The context every graph rule of :func:`~boflyt.engine.definition.validate.validate` reads.

A :class:`Check` holds the version, its lanes and graph, and how to place a problem on its line
and path (``steps[7](nav_assess).lane``). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import networkx as nx

from boflyt.engine.definition.safe_yaml import LineMap, PathKey, Tags, location
from boflyt.models.definition import LaneCatalog, Transition, Version
from boflyt.models.errors import Problem

__all__ = ["Check"]


@dataclass(frozen=True)
class Check:
    """What every rule needs: the version, its graph and how to place a problem."""

    version: Version
    lanes: LaneCatalog
    file: str
    lines: LineMap | None
    tags: Tags
    index: Mapping[str, int]
    graph: nx.DiGraph

    def at(self, path: PathKey, message: str) -> Problem:
        line = self.lines.line(path) if self.lines is not None else 0
        return Problem(self.file, line, location(path, self.tags), message)

    def step_at(self, step_id: str, message: str) -> Problem:
        return self.at(("steps", self.index[step_id]), message)

    def edges(self) -> Iterator[tuple[int, Transition]]:
        """Transitions between known steps (duplicates once), with their position in the file."""
        seen: set[tuple[str, str]] = set()
        for number, transition in enumerate(self.version.transitions):
            pair = (transition.source, transition.target)
            if pair[0] in self.index and pair[1] in self.index and pair not in seen:
                seen.add(pair)
                yield number, transition

    def outgoing(self, step_id: str) -> list[tuple[int, Transition]]:
        return [(n, t) for n, t in self.edges() if t.source == step_id]
