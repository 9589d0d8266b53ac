"""Orthogonal routes of a BPMN diagram's flows, around its nodes.

Every flow leaves and enters a node at the middle of one of its sides and bends only at right
angles. Candidate routes are tried for each flow: straight when the target sits on the same row,
else one bend in the gap beside a column, a split's branch straight up or down out of the
gateway, a join entered from above or below, a detour along the edge of a row, and a loop back
(rework) under or over the rows it spans. The cheapest is taken: crossing a node costs most,
then running along another flow, then sharing a side of a node with another flow (flows merging
into a node's left side are as BPMN draws them). Forward flows are routed before loops back, the
nearest rows first, so the main line gets the straight docks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple

__all__ = ["BEND", "Box", "Flow", "Point", "RowBand", "route_flows"]

BEND = 20.0
"""Distance of a bend from the node it leaves or enters."""

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

    def overlaps(self, other: Box) -> bool:
        """Whether the two boxes share an area (touching edges do not count)."""
        return (
            self.x < other.right
            and other.x < self.right
            and self.y < other.bottom
            and other.y < self.bottom
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


RowBand = Callable[[Box], tuple[float, float]]
"""The top and bottom of the row a node's box stands in."""


class Flow(NamedTuple):
    """One flow to route: from ``source`` to ``target`` (node ids).

    ``split``: the source is a diverging gateway, whose branches may leave it upwards or
    downwards; ``join``: the target is a converging gateway, which may be entered from above or
    below.
    """

    source: str
    target: str
    split: bool = False
    join: bool = False


def _dock(box: Box, side: str) -> Point:
    return {
        "left": (box.x, box.cy),
        "right": (box.right, box.cy),
        "top": (box.cx, box.y),
        "bottom": (box.cx, box.bottom),
    }[side]


def _forward(s: Box, t: Box, s_split: bool, t_join: bool, row_band: RowBand) -> list[list[Point]]:
    """Candidate routes from ``s`` to a target ``t`` in a later column.

    ``s_split``: ``s`` splits (a decision or a parallel split), so a branch may leave it
    upwards or downwards; ``t_join``: ``t`` is a join, which a branch may enter from above
    or below.
    """
    top, bottom = row_band(s)
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
    t_top, t_bottom = row_band(t)
    routes.append(_detour(s, t, bottom - 8 if down else top + 8))
    routes.append(_detour(s, t, t_top + 8 if down else t_bottom - 8))
    return routes


def _detour(s: Box, t: Box, gutter: float) -> list[Point]:
    """Out to the right, along the row's gutter, and into the target from its left."""
    x1, x2 = s.right + BEND, t.x - BEND
    return [_dock(s, "right"), (x1, s.cy), (x1, gutter), (x2, gutter), (x2, t.cy), _dock(t, "left")]


def _backward(s: Box, t: Box, row_band: RowBand) -> list[list[Point]]:
    """Candidate routes of a loop back to a column at or before the source's."""
    s_top, s_bottom = row_band(s)
    t_top, t_bottom = row_band(t)
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


def _routing_order(flows: Sequence[Flow], boxes: dict[str, Box]) -> list[int]:
    """Forward flows before loops back, the nearest rows first: the main line gets the
    straight docks."""

    def key(i: int) -> tuple[bool, float, int]:
        s, t = boxes[flows[i].source], boxes[flows[i].target]
        return t.cx <= s.cx, abs(t.cy - s.cy), i

    return sorted(range(len(flows)), key=key)


def route_flows(
    flows: Sequence[Flow], boxes: dict[str, Box], row_band: RowBand
) -> list[tuple[Point, ...]]:
    """The waypoints of each flow, in the order given, between the nodes' ``boxes``.

    ``row_band`` gives the top and bottom of the row a node stands in (loops and detours run
    along the edges of rows).

    ``b`` stands between ``a`` and ``c`` on their row, so the flow from ``a`` to ``c`` goes
    round it along the bottom of the row:

    >>> boxes = {k: Box(x, 40.0, 20.0, 20.0) for k, x in (("a", 0.0), ("b", 100.0), ("c", 200.0))}
    >>> route_flows([Flow("a", "c")], boxes, lambda box: (0.0, 100.0))
    [((20.0, 50.0), (40.0, 50.0), (40.0, 92.0), (180.0, 92.0), (180.0, 50.0), (200.0, 50.0))]
    """
    router = _Router(boxes)
    routes: dict[int, list[Point]] = {}
    for i in _routing_order(flows, boxes):
        flow = flows[i]
        s, t = boxes[flow.source], boxes[flow.target]
        if t.cx > s.cx:
            candidates = _forward(s, t, flow.split, flow.join, row_band)
        else:
            candidates = _backward(s, t, row_band)
        routes[i] = router.route(flow.source, flow.target, candidates)
    return [tuple(routes[i]) for i in range(len(flows))]
