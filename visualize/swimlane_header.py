"""DOT building blocks of the swimlane: colours, quoting, HTML-label text, and the header.

The header is the graph label above the lanes: title, subtitle, the before/after delta box,
the legend and (observed overlay) the colour scale of measured waits. Legend text stays
ASCII-safe for graphviz-pure's bundled font (no symbols such as a diamond glyph).
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence
from html import escape

from boflyt.models.words import Language, format_number
from boflyt.visualize.diagram import DiagramLane, Mark, Swimlane
from boflyt.visualize.wording import word

__all__ = [
    "CHANGED_BLUE",
    "GHOST_GREY",
    "HANDOFF_RED",
    "LANE_COLOURS",
    "NEW_GREEN",
    "OUTSIDE_COLOURS",
    "attrs",
    "days",
    "heat_colour",
    "heat_edge_colour",
    "lane_colours",
    "quote",
    "title_label",
    "wrap",
]

HANDOFF_RED = "#D62728"
NEW_GREEN = "#1B7F3A"
CHANGED_BLUE = "#1F5FB4"
GHOST_GREY = "#A8A8A8"
LANE_COLOURS: tuple[tuple[str, str], ...] = (
    ("#2F5F8F", "#EEF3FA"),
    ("#2E7D4F", "#EEF6F0"),
    ("#A66A1F", "#FAF4EA"),
    ("#6B4C9A", "#F3F0F8"),
    ("#2A7F86", "#EAF5F6"),
    ("#8F3F4F", "#F8EEF0"),
)
OUTSIDE_COLOURS = ("#6E6E6E", "#F3F3F3")
_HEAT = (
    (0.0, (255, 255, 255)),
    (0.35, (255, 237, 160)),
    (0.7, (253, 141, 60)),
    (1.0, (189, 0, 38)),
)


def heat_colour(value: float, maximum: float) -> str:
    """A colour from white through yellow and orange to red for ``value`` on ``0..maximum``.

    >>> heat_colour(0, 10), heat_colour(10, 10)
    ('#FFFFFF', '#BD0026')
    """
    t = 0.0 if maximum <= 0 else min(max(value / maximum, 0.0), 1.0)
    for (t0, c0), (t1, c1) in itertools.pairwise(_HEAT):
        if t <= t1:
            f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
            rgb = [round(a + (b - a) * f) for a, b in zip(c0, c1, strict=True)]
            return "#{:02X}{:02X}{:02X}".format(*rgb)
    return "#BD0026"


def heat_edge_colour(value: float, maximum: float) -> str:
    """Like :func:`heat_colour` but from amber, so short waits stay visible as lines.

    >>> heat_edge_colour(0, 10), heat_edge_colour(10, 10)
    ('#E0A000', '#BD0026')
    """
    t = 0.0 if maximum <= 0 else min(max(value / maximum, 0.0), 1.0)
    start, end = (224, 160, 0), (189, 0, 38)
    rgb = [round(a + (b - a) * t) for a, b in zip(start, end, strict=True)]
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def lane_colours(lanes: Sequence[DiagramLane]) -> dict[str, tuple[str, str]]:
    """(header, fill) colour per lane: a palette for own lanes in order, grey for outside ones.

    Swimlanes and the value-stream ladder use the same mapping.
    """
    colours, inside = {}, 0
    for lane in lanes:
        if lane.outside:
            colours[lane.id] = OUTSIDE_COLOURS
        else:
            colours[lane.id] = LANE_COLOURS[inside % len(LANE_COLOURS)]
            inside += 1
    return colours


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def attrs(**values: object) -> str:
    parts = []
    for key, value in values.items():
        if value is None:
            continue
        text = str(value).replace("'", '"') if str(value).startswith("<<") else str(value)
        parts.append(f"{key}=<{text[1:-1]}>" if text.startswith("<<") else f"{key}={quote(text)}")
    return "[" + ", ".join(parts) + "]"


def wrap(text: str, width: int, max_lines: int = 4) -> str:
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1][: width - 3] + "..."]
    return "<br/>".join(escape(line) for line in lines)


def days(value: float, lang: Language) -> str:
    """Working days on a diagram: at most one decimal, written the way ``lang`` writes numbers.

    >>> days(2.0, "nb"), days(2.54, "nb"), days(2.54, "en")
    ('2 d', '2,5 d', '2.5 d')
    """
    return f"{format_number(round(value, 1), lang, None)} {word('days', lang)}"


def title_label(diagram: Swimlane) -> str:
    lang = diagram.lang
    cells = [
        f'<tr><td align="left"><font point-size="20"><b>{escape(diagram.title)}</b></font>'
        "</td></tr>",
        f'<tr><td align="left"><font point-size="11" color="#444444">{escape(diagram.subtitle)}'
        "</font></td></tr>",
    ]
    if diagram.deltas:
        cells.append(f'<tr><td align="left">{_delta_box(diagram)}</td></tr>')
    cells.append(f'<tr><td align="left">{_legend(diagram)}</td></tr>')
    if diagram.wait_scale is not None:
        cells.append(f'<tr><td align="left">{_scale_bar(diagram)}</td></tr>')
    del lang
    return '<<table border="0" cellborder="0" cellspacing="2">' + "".join(cells) + "</table>>"


def _delta_box(diagram: Swimlane) -> str:
    cells, lang = [], diagram.lang
    for delta in diagram.deltas:
        sign = "+" if delta.pct is not None and round(delta.pct) > 0 else ""
        pct = "" if delta.pct is None else f" ({sign}{format_number(delta.pct, lang, 0)} %)"
        good = delta.change <= 0
        colour = NEW_GREEN if good else HANDOFF_RED
        cells.append(
            f'<td bgcolor="#FFFFFF" cellpadding="6"><font point-size="10" color="#444444">'
            f'{escape(delta.label[:1].upper() + delta.label[1:])}</font><br/><font point-size="14">'
            f"<b>{_num(delta.before, lang)}{delta.unit} -&gt; {_num(delta.after, lang)}"
            f"{delta.unit}</b></font>"
            f'<font point-size="11" color="{colour}">{pct}</font></td>'
        )
    return (
        '<table border="1" color="#9AA5B1" cellborder="0" cellspacing="0" bgcolor="#FFFFFF"><tr>'
        + "".join(cells)
        + "</tr></table>"
    )


def _num(value: float, lang: Language) -> str:
    """One decimal, by the one number formatter."""
    return format_number(value, lang)


def _legend(diagram: Swimlane) -> str:
    lang = diagram.lang
    items = [
        (HANDOFF_RED, f"<b>--&gt; 1</b> {escape(word('handoff', lang))}"),
        ("#7A7A7A", f"- - -&gt; {escape(word('rework', lang))}"),
        (
            "#B0171F",
            escape(f"{word('waste', lang)}: {word('waste_legend', lang)}"),
        ),
        ("#8A5A00", f"[2x] {escape(word('duplicate', lang))}"),
        ("#555555", f"{escape(word('external_wait', lang))} ({escape(word('outside', lang))})"),
        ("#555555", escape(word("decision", lang))),
    ]
    if any(n.mark is not Mark.NONE for n in diagram.nodes):
        items += [
            (colour, escape(f"{word(key, lang)}: {word(key + '_legend', lang)}"))
            for colour, key in ((NEW_GREEN, "new"), (CHANGED_BLUE, "changed"))
        ]
        items.append((GHOST_GREY, escape(word("removed_legend", lang))))
    cells = "".join(
        f'<td align="left"><font point-size="9" color="{c}">{t}</font></td>' for c, t in items
    )
    head = f'<td><font point-size="9"><b>{escape(word("legend", lang))}:</b></font></td>'
    return f'<table border="0" cellborder="0" cellspacing="6"><tr>{head}{cells}</tr></table>'


def _ink(value: float, top: float) -> str:
    """White text on the dark end of the heat scale, near-black elsewhere."""
    return "#FFFFFF" if value > 0.6 * top else "#111111"


def _scale_bar(diagram: Swimlane) -> str:
    assert diagram.wait_scale is not None
    lang = diagram.lang
    top = diagram.wait_scale.max_days
    steps = [top * i / 5 for i in range(6)]
    cells = "".join(
        f'<td bgcolor="{heat_colour(v, top)}" width="44"><font point-size="8" '
        f'color="{_ink(v, top)}">{days(v, lang)}</font></td>'
        for v in steps
    )
    title = f'<td><font point-size="9"><b>{escape(diagram.wait_scale.title)}:</b></font></td>'
    return f'<table border="0" cellborder="1" cellspacing="0"><tr>{title}{cells}</tr></table>'
