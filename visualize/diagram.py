"""The neutral diagram model: lanes, nodes, edges and headline figures as frozen dataclasses.

The pipeline is *extract → these frozen dataclasses → one renderer per module*. Extraction
lives in :mod:`boflyt.visualize.extraction`; nothing here knows about Graphviz or matplotlib,
about the analysis that feeds it, or about a :class:`~boflyt.models.definition.Version`.

Flow position: every node gets a ``depth`` (longest path from the start, rework edges ignored)
and a ``sub_row`` inside its lane (0 = main row; branches taken by a less likely outcome, parallel
branches and removed ghosts drop to the rows below). Handoffs are numbered 1, 2, 3 … in flow
order (by the depth of their source, then lane order, then declaration order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from boflyt.models.vocabulary import StepKind
from boflyt.models.words import Language

__all__ = [
    "DiagramEdge",
    "DiagramLane",
    "DiagramNode",
    "HeadlineDelta",
    "Mark",
    "Swimlane",
    "WaitScale",
    "flow_order",
]


class Mark(StrEnum):
    """How a step of an *after* version relates to the *before* version."""

    NONE = "none"
    NEW = "new"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class DiagramLane:
    """One swimlane: an organisation, in drawing order."""

    id: str
    label: str
    outside: bool = False


@dataclass(frozen=True, slots=True)
class DiagramNode:
    """One step as drawn."""

    id: str
    label: str
    lane: str
    kind: StepKind
    depth: int
    sub_row: int = 0
    number: int | None = None
    """Step number in flow order (work steps only; start/end/gateways have none)."""
    mark: Mark = Mark.NONE
    changed_fields: tuple[str, ...] = ()
    wastes: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    """Data fields this step registers that another step registers too."""
    external_wait: bool = False
    wait_days: float = 0.0
    """Mean designed waiting time before the step, in working days."""
    touch_minutes: float = 0.0
    joint_lanes: tuple[str, ...] = ()
    observed_wait_days: float | None = None
    """Measured mean wait before the step (observed overlay), in working days."""


@dataclass(frozen=True, slots=True)
class DiagramEdge:
    """One transition as drawn."""

    source: str
    target: str
    label: str = ""
    handoff: int | None = None
    """Handoff number (1, 2, 3 … in flow order) when the edge crosses lanes."""
    rework: bool = False
    ghost: bool = False
    """The edge belongs to the *before* version only (it touches a removed step)."""
    observed_wait_days: float | None = None
    probability: float | None = None


@dataclass(frozen=True, slots=True)
class HeadlineDelta:
    """One headline figure of a before/after view, e.g. handoffs 12 → 6."""

    label: str
    before: float
    after: float
    unit: str = ""

    @property
    def change(self) -> float:
        return self.after - self.before

    @property
    def pct(self) -> float | None:
        return None if self.before == 0 else 100.0 * self.change / self.before


@dataclass(frozen=True, slots=True)
class WaitScale:
    """The colour scale of the observed overlay: waits from 0 to ``max_days`` working days."""

    max_days: float
    title: str


@dataclass(frozen=True, slots=True)
class Swimlane:
    """A whole swimlane diagram: lanes in order, nodes, edges and the texts around them."""

    key: str
    title: str
    subtitle: str
    lang: Language
    lanes: tuple[DiagramLane, ...]
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]
    deltas: tuple[HeadlineDelta, ...] = ()
    wait_scale: WaitScale | None = None

    def node(self, node_id: str) -> DiagramNode:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    @property
    def handoff_edges(self) -> tuple[DiagramEdge, ...]:
        return tuple(sorted((e for e in self.edges if e.handoff), key=lambda e: e.handoff or 0))


def flow_order(nodes: Sequence[DiagramNode], lanes: Sequence[str]) -> list[DiagramNode]:
    """Nodes sorted by flow depth, then lane order, then sub-row."""
    index = {lane: i for i, lane in enumerate(lanes)}
    return sorted(nodes, key=lambda n: (n.depth, index.get(n.lane, 99), n.sub_row))
