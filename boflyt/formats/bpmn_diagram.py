"""The geometry of a BPMN diagram (BPMN DI): the swimlane's layout in BPMN's coordinates.

Nodes keep the places the swimlane gives them (:func:`boflyt.visualize.layout.flow_positions`
through :func:`boflyt.visualize.extraction.extract_swimlane`): a column per flow depth, a
sub-row inside the node's lane. This module turns those places into boxes of one pool whose
lanes lie one under the other (``isHorizontal``), as Camunda Modeler and bpmn.io draw them: y
grows downwards, the pool's name in a 30-pixel band on its left, each lane's name in the next.

Flows are routed around the nodes by :mod:`boflyt.formats.bpmn_routes`. The names of events,
gateways and flows (tasks carry theirs inside) are placed where they cover no node, no other
name and no flow, when such a place is near.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from math import ceil

from boflyt.formats.bpmn_routes import Box, Flow, Point, route_flows
from boflyt.models.vocabulary import StepKind
from boflyt.visualize.diagram import DiagramNode, Swimlane

__all__ = ["DiagramGeometry", "diagram_geometry"]

ORIGIN = (100.0, 60.0)
POOL_BAND = 30.0
LANE_BAND = 30.0
INSET = 10.0
COL_W = 230.0
ROW_H = 160.0
LANE_PAD = 10.0
SIZES = {
    StepKind.START: (36.0, 36.0),
    StepKind.END: (36.0, 36.0),
    StepKind.DECISION: (50.0, 50.0),
    StepKind.PARALLEL: (50.0, 50.0),
    StepKind.JOIN: (50.0, 50.0),
}
TASK_SIZE = (160.0, 100.0)
LINE_H = 14.0
"""Height of one line of a label (bpmn-js draws labels in 11 px Arial)."""


@dataclass(frozen=True, slots=True)
class DiagramGeometry:
    """Where everything of one BPMN diagram is drawn.

    ``edges`` and ``edge_labels`` follow the order of the diagram's edges; an edge label is
    ``None`` when the edge has no name.
    """

    pool: Box
    lanes: dict[str, Box]
    nodes: dict[str, Box]
    node_labels: dict[str, Box]
    """External labels of events and gateways (tasks carry their name inside)."""
    edges: tuple[tuple[Point, ...], ...]
    edge_labels: tuple[Box | None, ...]


def _size(kind: StepKind) -> tuple[float, float]:
    return SIZES.get(kind, TASK_SIZE)


def _label_height(text: str, chars_per_line: int) -> float:
    """The height of ``text`` wrapped at about ``chars_per_line`` characters."""
    return LINE_H * max(1, ceil(len(text) / chars_per_line))


class _Grid:
    """Columns by flow depth, rows by lane and sub-row, as in the swimlane."""

    def __init__(self, diagram: Swimlane) -> None:
        rows = {lane.id: 1 for lane in diagram.lanes}
        for node in diagram.nodes:
            rows[node.lane] = max(rows.get(node.lane, 1), node.sub_row + 1)
        depth = max((n.depth for n in diagram.nodes), default=0)
        x0, y = ORIGIN
        self.left = x0 + POOL_BAND + LANE_BAND + INSET
        width = POOL_BAND + LANE_BAND + 2 * INSET + (depth + 1) * COL_W
        self.lanes: dict[str, Box] = {}
        for lane in diagram.lanes:
            height = rows[lane.id] * ROW_H + 2 * LANE_PAD
            self.lanes[lane.id] = Box(x0 + POOL_BAND, y, width - POOL_BAND, height)
            y += height
        self.pool = Box(x0, ORIGIN[1], width, y - ORIGIN[1])

    def centre(self, node: DiagramNode) -> Point:
        lane = self.lanes[node.lane]
        x = self.left + node.depth * COL_W + COL_W / 2
        return x, lane.y + LANE_PAD + node.sub_row * ROW_H + ROW_H / 2

    def row_band(self, box: Box) -> tuple[float, float]:
        """The top and bottom of the row the box stands in."""
        for lane in self.lanes.values():
            if lane.y <= box.cy < lane.bottom:
                row = int((box.cy - lane.y - LANE_PAD) // ROW_H)
                top = lane.y + LANE_PAD + row * ROW_H
                return top, top + ROW_H
        return box.y, box.bottom


def _node_boxes(diagram: Swimlane, grid: _Grid) -> dict[str, Box]:
    boxes = {}
    for node in diagram.nodes:
        (cx, cy), (w, h) = grid.centre(node), _size(node.kind)
        boxes[node.id] = Box(cx - w / 2, cy - h / 2, w, h)
    return boxes


def _node_label(
    node: DiagramNode, box: Box, routes: Sequence[Sequence[Point]], nodes: Sequence[Box]
) -> Box | None:
    """The external label box of an event or gateway: below it, else above, else beside it
    (up or down on its left, then on its right), wherever no flow and no other node is."""
    if node.kind in (StepKind.START, StepKind.END):
        width, chars = 120.0, 20
    elif node.kind in (StepKind.DECISION, StepKind.PARALLEL, StepKind.JOIN):
        width, chars = 180.0, 30
    else:
        return None
    h = _label_height(node.label, chars)
    left, right = box.x - 6 - width, box.right + 6
    options = [
        Box(box.cx - width / 2, box.bottom + 6, width, h),
        Box(box.cx - width / 2, box.y - 6 - h, width, h),
        Box(left, box.cy - 6 - h, width, h),
        Box(left, box.cy + 6, width, h),
        Box(right, box.cy - 6 - h, width, h),
        Box(right, box.cy + 6, width, h),
    ]
    for option in options:
        crossed = any(option.crossed_by(a, b) for route in routes for a, b in pairwise(route))
        if not crossed and not any(option.overlaps(other) for other in nodes):
            return option
    return options[0]


def _label_options(route: Sequence[Point], text: str) -> list[Box]:
    """Places for a flow's name near where it leaves its source, best first."""
    (x0, y0), (x1, y1) = route[0], route[1]
    height, width = _label_height(text, 16), 100.0
    if x0 == x1:  # leaves vertically: beside the line
        y = y0 + 6 if y1 > y0 else y0 - 6 - height
        options = [Box(x0 + 5, y, width, height), Box(x0 - 5 - width, y, width, height)]
    else:
        options = [Box(x0 + 6, y0 - 4 - height, width, height), Box(x0 + 6, y0 + 4, width, height)]
        if len(route) > 2 and abs(x1 - x0) < 60:  # bends at once: beside the vertical part
            y2 = route[2][1]
            y = y1 + 4 if y2 > y1 else y1 - 4 - height
            options[:0] = [Box(x1 + 5, y, width, height)]
    for (xa, ya), (xb, yb) in pairwise(route[1:]):  # further along: mid-way, or after a bend
        if xa == xb:
            options.append(Box(xa + 5, (ya + yb - height) / 2, width, height))
        else:
            options.append(Box(min(xa, xb) + 6, ya - 4 - height, width, height))
    return options


def _place(options: list[Box], placed: list[Box], routes: Sequence[Sequence[Point]]) -> Box:
    """The first option that overlaps nothing placed and no flow, else the first that overlaps
    nothing placed, else the first."""
    free = [o for o in options if not any(o.overlaps(p) for p in placed)]
    clear = [o for o in free if not any(o.crossed_by(a, b) for r in routes for a, b in pairwise(r))]
    return (clear or free or options)[0]


def diagram_geometry(diagram: Swimlane) -> DiagramGeometry:
    """The boxes and edge routes of ``diagram`` (an extracted swimlane) in BPMN DI coordinates.

    >>> from tests.factories import linear_version
    >>> from boflyt.visualize.extraction import extract_swimlane
    >>> g = diagram_geometry(extract_swimlane(linear_version()))
    >>> all(any(lane.contains(box) for lane in g.lanes.values()) for box in g.nodes.values())
    True
    >>> [len(route) for route in g.edges]
    [2, 4, 2]
    """
    grid = _Grid(diagram)
    boxes = _node_boxes(diagram, grid)
    kinds = {node.id: node.kind for node in diagram.nodes}
    flows = [
        Flow(
            e.source,
            e.target,
            split=kinds[e.source] in (StepKind.DECISION, StepKind.PARALLEL),
            join=kinds[e.target] is StepKind.JOIN,
        )
        for e in diagram.edges
    ]
    ordered = route_flows(flows, boxes, grid.row_band)
    labels: dict[str, Box] = {}
    for node in diagram.nodes:
        label = _node_label(node, boxes[node.id], ordered, [*boxes.values(), *labels.values()])
        if label is not None:
            labels[node.id] = label
    placed = [*boxes.values(), *labels.values()]
    edge_labels: list[Box | None] = []
    for edge, route in zip(diagram.edges, ordered, strict=True):
        edge_labels.append(
            _place(_label_options(route, edge.label), placed, ordered) if edge.label else None
        )
        placed += [box for box in edge_labels[-1:] if box is not None]
    return DiagramGeometry(
        pool=grid.pool,
        lanes=grid.lanes,
        nodes=boxes,
        node_labels=labels,
        edges=tuple(ordered),
        edge_labels=tuple(edge_labels),
    )
