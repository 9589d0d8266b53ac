"""SVG sizes in one unit: an SVG's size in CSS pixels, and an SVG made ready to inline in HTML.

Graphviz and matplotlib write ``width="4671pt"`` with a viewBox that counts points, and a point
is 4/3 CSS pixel. The same number read once as points and once as pixels or user units gives
two sizes (the stacked overlay once drew each swimlane 4/3 too large, over the next one). Here
every size is turned into CSS pixels once; an inlined SVG gets unit-less width and height in
pixels (its size at 100 % zoom) and keeps its viewBox, so CSS can scale it without distortion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PX_PER_UNIT", "SvgSize", "inline_svg", "svg_size", "with_size"]

PX_PER_UNIT = {
    "": 1.0,
    "px": 1.0,
    "pt": 4 / 3,
    "pc": 16.0,
    "in": 96.0,
    "cm": 96 / 2.54,
    "mm": 96 / 25.4,
}
"""CSS pixels per unit of SVG length (CSS Values: 1in = 96px = 72pt)."""

_ROOT = re.compile(r"<svg\b[^>]*>", re.S)
_ATTR = re.compile(r'\s([\w:-]+)\s*=\s*"([^"]*)"')
_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-z]*)\s*$")


@dataclass(frozen=True, slots=True)
class SvgSize:
    """The size of an SVG at 100 %: CSS pixels, and the viewBox it draws in."""

    width_px: float
    height_px: float
    view_box: tuple[float, float, float, float]


def _length(value: str | None, where: str) -> float:
    match = _LENGTH.match(value or "")
    if match is None or match.group(2) not in PX_PER_UNIT:
        raise ValueError(
            f"{where}: {value!r} is not an SVG length; allowed units: "
            + ", ".join(unit or "(none)" for unit in PX_PER_UNIT)
        )
    return float(match.group(1)) * PX_PER_UNIT[match.group(2)]


def _root(svg: str) -> tuple[re.Match[str], dict[str, str]]:
    match = _ROOT.search(svg)
    if match is None:
        raise ValueError("svg: no <svg> element found")
    return match, dict(_ATTR.findall(match.group(0)))


def svg_size(svg: str) -> SvgSize:
    """The size of ``svg`` (its root element) in CSS pixels, and its viewBox.

    Without a viewBox one user unit is one pixel, so the viewBox is the pixel box.

    >>> svg_size('<svg width="72pt" height="36pt" viewBox="0 0 72 36">')
    SvgSize(width_px=96.0, height_px=48.0, view_box=(0.0, 0.0, 72.0, 36.0))

    Raises:
        ValueError: when there is no ``<svg>`` element or its width or height is missing or not
            a length.
    """
    _, attrs = _root(svg)
    width = _length(attrs.get("width"), "svg width")
    height = _length(attrs.get("height"), "svg height")
    box = attrs.get("viewBox", "").replace(",", " ").split()
    view_box = (0.0, 0.0, width, height)
    if len(box) == 4:
        view_box = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
    return SvgSize(width, height, view_box)


def with_size(svg: str, width: float, height: float, **extra: str) -> str:
    """``svg`` with its root's width and height set to unit-less ``width`` and ``height``.

    The viewBox is kept (added when missing), so the drawing scales into the new box; ``extra``
    attributes are added to the root (``x``, ``y``, ``class`` …).

    >>> with_size('<svg width="72pt" height="36pt" viewBox="0 0 72 36"><g/></svg>', 96, 48)
    '<svg width="96" height="48" viewBox="0 0 72 36"><g/></svg>'
    """
    size = svg_size(svg)
    match, attrs = _root(svg)
    attrs = {k: v for k, v in attrs.items() if k not in ("width", "height", "viewBox")}
    box = " ".join(f"{v:g}" for v in size.view_box)
    ordered = {"width": f"{width:g}", "height": f"{height:g}", "viewBox": box, **attrs, **extra}
    close = "/>" if match.group(0).endswith("/>") else ">"
    head = "<svg " + " ".join(f'{k}="{v}"' for k, v in ordered.items()) + close
    return svg[: match.start()] + head + svg[match.end() :]


def inline_svg(svg: bytes | str) -> str:
    """An SVG document as an element to inline in HTML, sized in CSS pixels.

    Everything before the root element (XML prolog, doctype, comments) is dropped; width and
    height become unit-less pixels, the size at 100 %.

    >>> inline_svg(b'<?xml version="1.0"?>\\n<svg width="72pt" height="36pt" viewBox="0 0 72 36"/>')
    '<svg width="96" height="48" viewBox="0 0 72 36"/>'

    Raises:
        ValueError: as :func:`svg_size`.
    """
    text = svg.decode() if isinstance(svg, bytes) else svg
    match, _ = _root(text)
    text = text[match.start() :]
    size = svg_size(text)
    return with_size(text, round(size.width_px, 2), round(size.height_px, 2))
