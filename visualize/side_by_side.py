"""The before/after view: the *after* swimlane marked against *before*, or both stacked.

:func:`render_comparison` draws the model made by
:func:`~boflyt.visualize.diagram.extract_comparison`
(new steps green, changed blue, removed as grey ghosts, headline deltas in the header box).
:func:`stack_svgs` puts rendered SVGs above one another on a common page, for a
"before above, after below" picture.
"""

from __future__ import annotations

from boflyt.visualize.diagram import Mark, Swimlane
from boflyt.visualize.render import Format, Renderer
from boflyt.visualize.svg import inline_svg, svg_size
from boflyt.visualize.swimlane import render_swimlane

__all__ = ["marked_steps", "render_comparison", "stack_svgs"]


def marked_steps(diagram: Swimlane) -> dict[Mark, list[str]]:
    """Step ids by mark (new, changed, removed), in flow order."""
    found: dict[Mark, list[str]] = {Mark.NEW: [], Mark.CHANGED: [], Mark.REMOVED: []}
    for node in sorted(diagram.nodes, key=lambda n: (n.depth, n.sub_row)):
        if node.mark in found:
            found[node.mark].append(node.id)
    return found


def render_comparison(
    diagram: Swimlane, fmt: Format = "svg", *, renderer: Renderer | None = None
) -> bytes:
    """SVG or PNG of a before/after model.

    Raises:
        RenderError: when no renderer is found or rendering fails.
    """
    return render_swimlane(diagram, fmt, renderer=renderer)


def stack_svgs(svgs: list[bytes], *, gap: float = 24.0) -> bytes:
    """One SVG holding ``svgs`` one above the other, left-aligned, with a rule between them.

    The stack counts CSS pixels: each part is nested at its own size in pixels (a Graphviz
    ``width="300pt"`` becomes 400 px), so parts never overlap whatever unit they were written in.

    Raises:
        ValueError: when an input has no ``<svg>`` root with a width and height.
    """
    parts, y, width = [], 0.0, 0.0
    for index, svg in enumerate(svgs):
        body = inline_svg(svg)
        size = svg_size(body)
        w, h = size.width_px, size.height_px
        if index:
            parts.append(
                f'<line x1="0" y1="{y - gap / 2:.1f}" x2="{max(width, w):.1f}" '
                f'y2="{y - gap / 2:.1f}" stroke="#555" stroke-width="1"/>'
            )
        parts.append(f'<g transform="translate(0 {y:.1f})">{body}</g>')
        y, width = y + h + gap, max(width, w)
    height = max(y - gap, 0.0)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width:.1f}" height="{height:.1f}" viewBox="0 0 {width:.1f} {height:.1f}">'
        + "".join(parts)
        + "</svg>"
    ).encode()
