"""The geometry of a BPMN diagram (BPMN DI): the swimlane's layout in BPMN's coordinates.

Nodes keep the places the swimlane gives them (:func:`boflyt.visualize.layout.flow_positions`
through :func:`boflyt.visualize.extraction.extract_swimlane`): a column per flow depth, a
sub-row inside the node's lane. This module turns those places into boxes of one pool whose
lanes lie one under the other (``isHorizontal``), as Camunda Modeler and bpmn.io draw them: y
grows downwards, the pool's name in a 30-pixel band on its left, each lane's name in the next.

Edges are routed orthogonally around the nodes: a straight line when the target sits on the
same row, else one bend in the gap beside a column, a gateway's branch straight up or down out
of the diamond, and a loop back (rework) under or over the rows it spans. Of the candidate
routes, the first that crosses no other node is taken.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from math import ceil

from boflyt.models.vocabulary import StepKind
from boflyt.visualize.diagram import DiagramEdge, DiagramNode, Swimlane

__all__ = ["Box", "DiagramGeometry", "Point", "diagram_geometry"]

ORIGIN = (100.0, 60.0)
POOL_BAND = 30.0
LANE_BAND = 30.0
INSET = 10.0
COL_W = 230.0
ROW_H = 160.0
LANE_PAD = 10.0
BEND = 20.0
"""Distance of a bend from the node it leaves or enters."""
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

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned rectangle: its top-left corner, width and height."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def contains(self, other: Box) -> bool:
        """Whether ``other`` lies wholly inside this box.

        >>> Box(0, 0, 10, 10).contains(Box(2, 2, 3, 3)), Box(0, 0, 10, 10).contains(Box(8, 8, 3, 3))
        (True, False)
        """
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    def crossed_by(self, a: Point, b: Point) -> bool:
        """Whether the axis-aligned segment ``a``–``b`` passes through this box."""
        (x1, y1), (x2, y2) = a, b
        return (
            min(x1, x2) < self.right
            and max(x1, x2) > self.x
            and min(y1, y2) < self.bottom
            and max(y1, y2) > self.y
        )


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
        if not crossed and not any(_overlaps(option, other) for other in nodes):
            return option
    return options[0]


def _dock(box: Box, side: str) -> Point:
    return {
        "left": (box.x, box.cy),
        "right": (box.right, box.cy),
        "top": (box.cx, box.y),
        "bottom": (box.cx, box.bottom),
    }[side]


def _forward(s: Box, t: Box, s_split: bool, t_join: bool, grid: _Grid) -> list[list[Point]]:
    """Candidate routes from ``s`` to a target ``t`` in a later column.

    ``s_split``: ``s`` splits (a decision or a parallel split), so a branch may leave it
    upwards or downwards; ``t_join``: ``t`` is a join, which a branch may enter from above
    or below.
    """
    top, bottom = grid.row_band(s)
    if s.cy == t.cy:
        straight = [_dock(s, "right"), _dock(t, "left")]
        return [straight, _detour(s, t, bottom - 8), _detour(s, t, top + 8)]
    down = t.cy > s.cy
    routes = []
    if s_split:
        routes.append([_dock(s, "bottom" if down else "top"), (s.cx, t.cy), _dock(t, "left")])
    if t_join:
        routes.append([_dock(s, "right"), (t.cx, s.cy), _dock(t, "top" if down else "bottom")])
    for x in (t.x - BEND, s.right + BEND, t.x - BEND - 12, s.right + BEND + 12):
        routes.append([_dock(s, "right"), (x, s.cy), (x, t.cy), _dock(t, "left")])
    t_top, t_bottom = grid.row_band(t)
    routes.append(_detour(s, t, bottom - 8 if down else top + 8))
    routes.append(_detour(s, t, t_top + 8 if down else t_bottom - 8))
    return routes


def _detour(s: Box, t: Box, gutter: float) -> list[Point]:
    """Out to the right, along the row's gutter, and into the target from its left."""
    x1, x2 = s.right + BEND, t.x - BEND
    return [_dock(s, "right"), (x1, s.cy), (x1, gutter), (x2, gutter), (x2, t.cy), _dock(t, "left")]


def _backward(s: Box, t: Box, grid: _Grid) -> list[list[Point]]:
    """Candidate routes of a loop back to a column at or before the source's."""
    s_top, s_bottom = grid.row_band(s)
    t_top, t_bottom = grid.row_band(t)
    below, above = max(s_bottom, t_bottom) - 8, min(s_top, t_top) + 8
    into_left = t.x - BEND
    return [
        [_dock(s, "bottom"), (s.cx, below), (t.cx, below), _dock(t, "bottom")],
        [_dock(s, "top"), (s.cx, above), (t.cx, above), _dock(t, "top")],
        [_dock(s, "bottom"), (s.cx, s_bottom - 8), (into_left, s_bottom - 8),
         (into_left, t.cy), _dock(t, "left")],
        [_dock(s, "top"), (s.cx, s_top + 8), (into_left, s_top + 8),
         (into_left, t.cy), _dock(t, "left")],
    ]  # fmt: skip


def _side(box: Box, point: Point) -> str:
    """Which side of ``box`` a route touches at ``point``."""
    x, y = point
    if y == box.y and x != box.x:
        return "top"
    if y == box.bottom and x != box.x:
        return "bottom"
    return "left" if x == box.x else "right"


class _Router:
    """Routes edges one by one, each avoiding the nodes and the docks taken before it."""

    def __init__(self, boxes: dict[str, Box]) -> None:
        self.boxes = boxes
        self.taken: Counter[tuple[str, str]] = Counter()
        self.segments: list[tuple[str, str, Point, Point]] = []
        """Every segment routed so far, with its flow's source and target."""

    def cost(self, source: str, target: str, route: Sequence[Point]) -> int:
        """Nodes crossed, lengths run along another flow, and docks shared with another flow
        (two flows on one side of a node read as one; only merging into a node's left side is
        as BPMN draws it)."""
        crossed = sum(
            1
            for key, box in self.boxes.items()
            if key not in (source, target)
            for a, b in pairwise(route)
            if box.crossed_by(a, b)
        )
        start = _side(self.boxes[source], route[0])
        end = _side(self.boxes[target], route[-1])
        shared = 2 * self.taken[source, start] if start != "right" else self.taken[source, start]
        shared += 2 * self.taken[target, end] if end != "left" else 0
        return 10 * crossed + 3 * self._along(source, target, route) + shared

    def _along(self, source: str, target: str, route: Sequence[Point]) -> int:
        """Segments of ``route`` that run along a segment of another flow, except where two
        flows leave the same node or merge into the same one."""
        segments = list(pairwise(route))
        found = 0
        for i, (a, b) in enumerate(segments):
            for s, t, c, d in self.segments:
                if (i == 0 and s == source) or (i == len(segments) - 1 and t == target):
                    continue
                found += _collinear(a, b, c, d)
        return found

    def route(self, source: str, target: str, candidates: list[list[Point]]) -> list[Point]:
        """The cheapest candidate (the first of equals); a bend after a shared right side is
        moved along so the flows stay apart."""
        best = min(candidates, key=lambda route: self.cost(source, target, route))
        s = self.boxes[source]
        start = _side(s, best[0])
        if start == "right" and len(best) > 2 and best[1][0] == s.right + BEND:
            bend, shift = best[1][0], 12.0 * self.taken[source, "right"]
            middle = [(x + shift if x == bend else x, y) for x, y in best[1:-1]]
            best = [best[0], *middle, best[-1]]
        self.taken[source, start] += 1
        self.taken[target, _side(self.boxes[target], best[-1])] += 1
        self.segments += [(source, target, a, b) for a, b in pairwise(best)]
        return best


def _collinear(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segments ``a``–``b`` and ``c``–``d`` lie on one line and share a length."""
    if a[0] == b[0] == c[0] == d[0]:
        lo, hi = sorted((a[1], b[1])), sorted((c[1], d[1]))
    elif a[1] == b[1] == c[1] == d[1]:
        lo, hi = sorted((a[0], b[0])), sorted((c[0], d[0]))
    else:
        return False
    return min(lo[1], hi[1]) - max(lo[0], hi[0]) > 1


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


def _overlaps(a: Box, b: Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def _place(options: list[Box], placed: list[Box], routes: Sequence[Sequence[Point]]) -> Box:
    """The first option that overlaps nothing placed and no flow, else the first that overlaps
    nothing placed, else the first."""
    free = [o for o in options if not any(_overlaps(o, p) for p in placed)]
    clear = [o for o in free if not any(o.crossed_by(a, b) for r in routes for a, b in pairwise(r))]
    return (clear or free or options)[0]


def _routing_order(diagram: Swimlane, boxes: dict[str, Box]) -> list[tuple[int, DiagramEdge]]:
    """Forward flows before loops back, the nearest rows first: the main line gets the
    straight docks."""

    def key(item: tuple[int, DiagramEdge]) -> tuple[bool, float, int]:
        s, t = boxes[item[1].source], boxes[item[1].target]
        return t.cx <= s.cx, abs(t.cy - s.cy), item[0]

    return sorted(enumerate(diagram.edges), key=key)


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
    router = _Router(boxes)
    routes: dict[int, list[Point]] = {}
    for i, edge in _routing_order(diagram, boxes):
        s, t = boxes[edge.source], boxes[edge.target]
        if t.cx > s.cx:
            split = kinds[edge.source] in (StepKind.DECISION, StepKind.PARALLEL)
            candidates = _forward(s, t, split, kinds[edge.target] is StepKind.JOIN, grid)
        else:
            candidates = _backward(s, t, grid)
        routes[i] = router.route(edge.source, edge.target, candidates)
    ordered = [tuple(routes[i]) for i in range(len(diagram.edges))]
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
