"""The swimlane renderer: a :class:`~boflyt.visualize.diagram.Swimlane` → pinned DOT → SVG/PNG.

Pinned layout: every node gets ``pos="x,y!"`` from its lane, sub-row and flow depth, every lane
cluster gets its ``bb``, and Graphviz (neato ``-n2``) only routes the orthogonal edges. Lane
order is therefore exactly the model's order, at any size.

Look: HTML-table step cards with a number, the name and rows for waste, duplicate registration,
external waits and measured waits; red numbered handoffs; dashed rework loops; diamonds for
decisions, small "+" diamonds for parallel/join; circles for start and end. No text is smaller
than 8 pt, so at 100 % (4/3 CSS px per point) every word is at least 10.7 px high.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from boflyt.models.vocabulary import StepKind
from boflyt.models.words import Language
from boflyt.visualize.diagram import DiagramEdge, DiagramLane, DiagramNode, Mark, Swimlane
from boflyt.visualize.render import Format, Renderer, find_renderer, run_graphviz
from boflyt.visualize.swimlane_header import (
    CHANGED_BLUE,
    GHOST_GREY,
    HANDOFF_RED,
    LANE_COLOURS,
    NEW_GREEN,
    attrs,
    days,
    heat_colour,
    heat_edge_colour,
    lane_colours,
    quote,
    title_label,
    wrap,
)
from boflyt.visualize.wording import waste_label, word

__all__ = [
    "HANDOFF_RED",
    "LANE_COLOURS",
    "heat_colour",
    "render_swimlane",
    "swimlane_dot",
]

COL_W = 225.0
ROW_H = 118.0
LANE_PAD = 14.0
HEADER_W = 150.0
FIRST_X = HEADER_W + 90.0
CARD_W = 150


class _Grid:
    """Pixel geometry of the pinned layout (points; Graphviz's y grows upwards)."""

    def __init__(self, diagram: Swimlane) -> None:
        self.lanes = diagram.lanes
        rows = {lane.id: 1 for lane in diagram.lanes}
        for node in diagram.nodes:
            if node.lane in rows:
                rows[node.lane] = max(rows[node.lane], node.sub_row + 1)
        self.rows = rows
        self.depth = max((n.depth for n in diagram.nodes), default=0)
        self.width = FIRST_X + (self.depth + 0.5) * COL_W
        heights = [rows[lane.id] * ROW_H + 2 * LANE_PAD for lane in diagram.lanes]
        self.top: dict[str, float] = {}
        y = sum(heights) + LANE_PAD * (len(heights) - 1)
        for lane, height in zip(diagram.lanes, heights, strict=True):
            self.top[lane.id] = y
            y -= height + LANE_PAD
        self.heights = dict(zip((lane.id for lane in diagram.lanes), heights, strict=True))

    def node_pos(self, node: DiagramNode) -> str:
        x = FIRST_X + node.depth * COL_W
        y = self.top[node.lane] - LANE_PAD - ROW_H * (node.sub_row + 0.5)
        return f"{x:.1f},{y:.1f}!"

    def lane_bb(self, lane_id: str) -> str:
        top = self.top[lane_id]
        return f"0,{top - self.heights[lane_id]:.1f},{self.width:.1f},{top:.1f}"

    def header_pos(self, lane_id: str) -> str:
        return f"{HEADER_W / 2 + 10:.1f},{self.top[lane_id] - self.heights[lane_id] / 2:.1f}!"


def _lane_block(
    lane: DiagramLane, grid: _Grid, colours: tuple[str, str], lang: Language
) -> list[str]:
    header, fill = colours
    style = "filled,dashed" if lane.outside else "filled"
    sub = (
        f'<br/><font point-size="8">({escape(word("outside", lang))})</font>'
        if lane.outside
        else ""
    )
    label = f'<<font color="white" point-size="11"><b>{wrap(lane.label, 20, 3)}</b>{sub}</font>>'
    head = attrs(
        id=f"lane-{lane.id}",
        shape="box",
        style="filled,rounded",
        fillcolor=header,
        color=header,
        fixedsize="true",
        width=f"{HEADER_W / 72:.2f}",
        height="0.7",
        pos=grid.header_pos(lane.id),
        label=label,
        **{"class": f"lane-header{' outside' if lane.outside else ''}"},
    )
    return [
        f"subgraph {quote('cluster_' + lane.id)} {{",
        f'  graph [id="lane-area-{lane.id}", bb="{grid.lane_bb(lane.id)}", style="{style}",'
        f' fillcolor="{fill}", color="#B8BEC8", label=""];',
        f"  {quote('lane__' + lane.id)} {head};",
    ]


def _card_rows(node: DiagramNode, diagram: Swimlane) -> list[str]:
    lang, rows = diagram.lang, []
    tag = ""
    if node.mark in (Mark.NEW, Mark.CHANGED, Mark.REMOVED):
        colour = {Mark.NEW: NEW_GREEN, Mark.CHANGED: CHANGED_BLUE}.get(node.mark, GHOST_GREY)
        tag = f' <font color="{colour}"><b>{escape(word(node.mark.value, lang))}</b></font>'
    number = f"{node.number}" if node.number else "&#160;"
    rows.append(
        f'<tr><td align="left" height="10"><font point-size="8" color="#666666">{number}'
        f"</font>{tag}</td></tr>"
    )
    text_colour = "#9A9A9A" if node.mark is Mark.REMOVED else "#1A1A1A"
    scale = diagram.wait_scale
    if (
        scale
        and node.observed_wait_days is not None
        and node.observed_wait_days > 0.6 * scale.max_days
    ):
        text_colour = "#FFFFFF"
    rows.append(
        f'<tr><td width="{CARD_W}"><font color="{text_colour}">{wrap(node.label, 26)}'
        "</font></td></tr>"
    )
    if node.joint_lanes:
        joint = ", ".join(_lane_name(diagram, lane) for lane in node.joint_lanes)
        rows.append(_row("#EFEFEF", "#444444", "", "+ " + joint))
    if node.wastes:
        wastes = ", ".join(waste_label(w, lang) for w in node.wastes)
        rows.append(_row("#FBE3E4", "#B0171F", "", f"{word('waste', lang)}: {wastes}"))
    if node.duplicates:
        text = f"{word('duplicate', lang)}: {', '.join(node.duplicates)}"
        rows.append(_row("#FFF1CC", "#8A5A00", "", "[2x] " + text))
    if node.external_wait:
        text = f"{word('external_wait', lang)} {days(node.wait_days, lang)}"
        rows.append(_row("#E4E4E4", "#333333", "", text))
    if node.observed_wait_days is not None and diagram.wait_scale is not None:
        top = diagram.wait_scale.max_days
        fill = heat_colour(node.observed_wait_days, top)
        ink = "#FFFFFF" if node.observed_wait_days > 0.6 * top else "#111111"
        text = f"{word('wait', lang)} {days(node.observed_wait_days, lang)}"
        rows.append(_row(fill, ink, "", text))
    return rows


def _row(fill: str, colour: str, prefix: str, text: str) -> str:
    """One annotation row of a card: ``prefix`` (HTML) then ``text`` wrapped to the card."""
    body = prefix + wrap(text, 40 - len(prefix) // 8, 3)
    return (
        f'<tr><td bgcolor="{fill}" align="center" width="{CARD_W}"><font point-size="8" '
        f'color="{colour}">{body}</font></td></tr>'
    )


def _lane_name(diagram: Swimlane, lane_id: str) -> str:
    for lane in diagram.lanes:
        if lane.id == lane_id:
            return lane.label
    return lane_id


def _card_style(node: DiagramNode) -> tuple[str, str, str, str]:
    """(fill, border colour, border width, table style) of a step card."""
    if node.mark is Mark.REMOVED:
        return "#FAFAFA", GHOST_GREY, "1", "rounded,dashed"
    if node.mark is Mark.NEW:
        return "#EAF6EC", NEW_GREEN, "2", "rounded"
    if node.mark is Mark.CHANGED:
        return "#FFFFFF", CHANGED_BLUE, "2", "rounded"
    if node.kind is StepKind.WAIT or node.external_wait:
        return "#EDEDED", "#6E6E6E", "1", "rounded,dashed"
    if node.kind is StepKind.AUTO:
        return "#F2F6FB", "#4A6A8A", "1", "rounded"
    return "#FFFFFF", "#555555", "1", "rounded"


def _classes(node: DiagramNode) -> str:
    classes = f"step kind-{node.kind.value} mark-{node.mark.value}"
    for flag, name in ((node.wastes, "waste"), (node.duplicates, "duplicate")):
        if flag:
            classes += f" {name}"
    return classes + (" external-wait" if node.external_wait else "")


def _tooltip(node: DiagramNode) -> str:
    """Hover text in SVG viewers: the step id and, when changed, which fields changed."""
    changed = f" (changed: {', '.join(node.changed_fields)})" if node.changed_fields else ""
    return f"{node.id}{changed}"


def _node_lines(node: DiagramNode, grid: _Grid, diagram: Swimlane) -> list[str]:
    common = {"id": f"step-{node.id}", "pos": grid.node_pos(node), "tooltip": _tooltip(node)}
    classes = _classes(node)
    ghost = node.mark is Mark.REMOVED
    line_colour = GHOST_GREY if ghost else "#555555"
    if node.kind in (StepKind.START, StepKind.END):
        end = node.kind is StepKind.END
        node_attrs = attrs(
            shape="doublecircle" if end else "circle",
            style="filled,dashed" if ghost else "filled",
            fillcolor="#F9D9D9" if end else "#DDF1DD",
            color=line_colour,
            fixedsize="true",
            width="0.6",
            label=word("end" if end else "start", diagram.lang),
            fontsize="9",
            **common,
            **{"class": classes},
        )
    elif node.kind in (StepKind.PARALLEL, StepKind.JOIN):
        node_attrs = attrs(
            shape="diamond", style="filled,dashed" if ghost else "filled", fillcolor="#FFF4C2",
            color=line_colour, fixedsize="true", width="0.55", height="0.55", label="+",
            fontsize="16", **common, **{"class": classes},
        )  # fmt: skip
    elif node.kind is StepKind.DECISION:
        return _decision_lines(node, grid, diagram, common, classes)
    else:
        node_attrs = _card(node, diagram, common, classes)
    return [f"{quote(node.id)} {node_attrs};"]


def _decision_fill(node: DiagramNode, diagram: Swimlane) -> str:
    if diagram.wait_scale is None or node.observed_wait_days is None:
        return "#FFF4C2"
    return heat_colour(node.observed_wait_days, diagram.wait_scale.max_days)


def _decision_lines(
    node: DiagramNode, grid: _Grid, diagram: Swimlane, common: dict[str, str], classes: str
) -> list[str]:
    """A diamond; its notes (waste, duplicates, marks …) hang in a pinned card just below."""
    notes = _card_rows(node, diagram)[2:]
    tag = _card_rows(node, diagram)[0] if node.mark is not Mark.NONE else ""
    x, y = (float(v) for v in grid.node_pos(node).rstrip("!").split(","))
    rows = ([tag] if tag else []) + notes
    height = sum(11.0 * (row.count("<br/>") + 1) + 5.0 for row in rows)
    lift = (height + 4.0) / 2 if rows else 0.0
    colour = {Mark.NEW: NEW_GREEN, Mark.CHANGED: CHANGED_BLUE, Mark.REMOVED: GHOST_GREY}
    ghost = node.mark is Mark.REMOVED
    text = "#9A9A9A" if ghost else "#1A1A1A"
    label = (
        f'<<font point-size="8" color="#666666">{node.number or "&#160;"}</font><br/>'
        f'<font color="{text}">{wrap(node.label, 20, 4)}</font>>'
    )
    diamond = attrs(
        shape="diamond", style="filled,dashed" if ghost else "filled",
        fillcolor="#FAFAFA" if ghost else _decision_fill(node, diagram),
        color=colour.get(node.mark, "#B59B2A"),
        penwidth="2" if node.mark in (Mark.NEW, Mark.CHANGED) else "1",
        fixedsize="true", width="2.05", height="1.05", fontsize="8.5", label=label,
        id=common["id"], tooltip=common["tooltip"], pos=f"{x:.1f},{y + lift:.1f}!",
        **{"class": classes},
    )  # fmt: skip
    lines = [f"{quote(node.id)} {diamond};"]
    if rows:
        table = (
            '<<table border="0" cellborder="0" cellspacing="0" cellpadding="2">'
            + "".join(rows)
            + "</table>>"
        )
        below = y + lift - 38.0 - 4.0 - height / 2
        node_attrs = attrs(
            shape="plain", label=table, id=f"notes-{node.id}", pos=f"{x:.1f},{below:.1f}!",
            **{"class": "step-notes"},
        )  # fmt: skip
        lines.append(f"{quote(node.id + '__notes')} {node_attrs};")
    return lines


def _card(node: DiagramNode, diagram: Swimlane, common: dict[str, str], classes: str) -> str:
    fill, border, width, style = _card_style(node)
    if diagram.wait_scale is not None and node.observed_wait_days is not None:
        fill = heat_colour(node.observed_wait_days, diagram.wait_scale.max_days)
    table = (
        f'<<table style="{style}" border="{width}" cellborder="0" cellspacing="0" '
        f'cellpadding="3" color="{border}" bgcolor="{fill}">'
        + "".join(_card_rows(node, diagram))
        + "</table>>"
    )
    return attrs(shape="plain", label=table, fontsize="10", **common, **{"class": classes})


def _outcome(edge: DiagramEdge) -> str:
    """The outcome text of an edge with its probability, e.g. ``godkjent 80 %``."""
    if edge.label and edge.probability is not None and edge.probability < 1:
        return f"{edge.label} {edge.probability * 100:.0f} %"
    return edge.label


def _handoff_attrs(edge: DiagramEdge, diagram: Swimlane) -> dict[str, object]:
    """Red (or heat-coloured) thick edge with a numbered chip; dashed when it is rework."""
    colour, text, scale = HANDOFF_RED, f"{edge.handoff}", diagram.wait_scale
    chip_fill, ink = HANDOFF_RED, "white"
    if scale is not None and edge.observed_wait_days is not None:
        colour = heat_edge_colour(edge.observed_wait_days, scale.max_days)
        chip_fill = heat_colour(edge.observed_wait_days, scale.max_days)
        ink = "white" if edge.observed_wait_days > 0.6 * scale.max_days else "#111111"
        text += f" | {days(edge.observed_wait_days, diagram.lang)}"
    outcome = _outcome(edge)
    extra = f'<font point-size="8"> {escape(outcome)}</font>' if outcome else ""
    chip = (
        f'<<table border="1" color="{colour}" cellborder="0" cellpadding="2" '
        f'bgcolor="{chip_fill}"><tr><td><font color="{ink}" face="Arial" point-size="10">'
        f"<b>{escape(text)}</b>{extra}</font></td></tr></table>>"
    )
    found: dict[str, object] = {"id": f"handoff-{edge.handoff}", "color": colour}
    found |= {"penwidth": "2.4", "xlabel": chip, "class": "handoff"}
    if edge.rework:
        found |= {"style": "dashed", "tailport": "s", "headport": "s", "class": "handoff rework"}
    return found


def _edge_line(edge: DiagramEdge, diagram: Swimlane) -> str:
    base: dict[str, object] = {"id": f"edge-{edge.source}-{edge.target}"}
    if edge.ghost:
        base |= {"style": "dotted", "color": GHOST_GREY, "arrowsize": "0.6", "class": "ghost"}
    elif edge.handoff:
        base |= _handoff_attrs(edge, diagram)
    elif edge.rework:
        base |= {"style": "dashed", "color": "#7A7A7A", "tailport": "s", "headport": "s"}
        base |= {"class": "rework", "arrowsize": "0.7"}
    else:
        base |= {"color": "#333333", "arrowsize": "0.7", "class": "flow"}
    label = _outcome(edge)
    if label and not edge.ghost and not edge.handoff:
        # An external label: Graphviz places it beside the edge, clear of the nodes (a tail
        # label sat half under the decision diamond, and under the card on a rework loop).
        base |= {"xlabel": f"<<font point-size='8' color='#333333'>{wrap(label, 18, 3)}</font>>"}
    return f"{quote(edge.source)} -> {quote(edge.target)} {attrs(**base)};"


def swimlane_dot(diagram: Swimlane) -> str:
    """The pinned DOT source of ``diagram`` (render with neato ``-n2``)."""
    grid = _Grid(diagram)
    colours = lane_colours(diagram.lanes)
    lane_of = {lane.id for lane in diagram.lanes}
    lines = [
        f"digraph {quote(diagram.key)} {{",
        '  graph [splines=ortho, outputorder=edgesfirst, bgcolor="white", fontname="Arial",'
        ' labelloc=t, labeljust=l, pad="0.3", forcelabels=true,'
        f" label={title_label(diagram)}];",
        '  node [fontname="Arial", fontsize=10];',
        '  edge [fontname="Arial", fontsize=9, arrowsize=0.8];',
    ]
    by_lane: dict[str, list[DiagramNode]] = {lane.id: [] for lane in diagram.lanes}
    for node in diagram.nodes:
        by_lane.setdefault(node.lane if node.lane in lane_of else diagram.lanes[0].id, []).append(
            node
        )
    for lane in diagram.lanes:
        lines += _lane_block(lane, grid, colours[lane.id], diagram.lang)
        lines += [f"  {line}" for n in by_lane[lane.id] for line in _node_lines(n, grid, diagram)]
        lines.append("}")
    lines += [f"  {_edge_line(e, diagram)}" for e in _drawing_order(diagram.edges)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _drawing_order(edges: Iterable[DiagramEdge]) -> list[DiagramEdge]:
    """Ghost and rework edges first so handoffs are drawn on top."""
    return sorted(edges, key=lambda e: (not e.ghost, not e.rework, e.handoff or 0))


def render_swimlane(
    diagram: Swimlane, fmt: Format = "svg", *, renderer: Renderer | None = None
) -> bytes:
    """SVG or PNG bytes of ``diagram``.

    Raises:
        RenderError: when no renderer is found or rendering fails.
    """
    return run_graphviz(swimlane_dot(diagram), fmt, renderer or find_renderer())
