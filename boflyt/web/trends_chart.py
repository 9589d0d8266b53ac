"""A small line chart as inline SVG for the KPI trends page: months along, values up.

Hand-made rather than matplotlib's: the page's Content-Security-Policy forbids inline ``style``
attributes, which matplotlib writes; here every colour is a presentation attribute. A missing
value (a suppressed month) breaks its line and draws no point; each series also has its own dash
pattern and point shape, so the lines differ without colour. Version publications are dashed
vertical marks, labelled ``v2``, at their day within the month.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Mark", "Series", "line_chart", "month_position"]

WIDTH, HEIGHT = 720, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 16, 28, 44
_COLOURS = ("#0b5394", "#b45f06", "#38761d", "#741b47", "#134f5c", "#7f6000")
_DASHES = ("", "6 4", "2 3", "8 3 2 3", "12 4", "1 4")
_MARK = "#555555"
_ROW = 18
"""The height of one more row of the legend."""


@dataclass(frozen=True)
class Series:
    """One line: its name and one value per month (None: not shown)."""

    label: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Mark:
    """A vertical mark at ``at`` months from the first month's start (:func:`month_position`)."""

    at: float
    label: str


def month_position(day: dt.date, first: dt.date) -> float:
    """Months from the start of ``first`` to ``day``: whole months plus the day's share.

    >>> month_position(dt.date(2025, 3, 16), dt.date(2025, 1, 1))
    2.4838709677419355
    """
    days = (dt.date(day.year + day.month // 12, day.month % 12 + 1, 1) - day.replace(day=1)).days
    return (day.year - first.year) * 12 + day.month - first.month + (day.day - 1) / days


def _nice_top(top: float) -> float:
    """The axis's top: four steps of 1, 2, 2.5 or 5 × 10ⁿ, the smallest reaching ``top`` (so every
    gridline is a round number).

    >>> _nice_top(4.0), _nice_top(4.1), _nice_top(90.0), _nice_top(0.0)
    (4.0, 8.0, 100.0, 1.0)
    """
    if top <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(top / 4))
    step = next(f * power for f in (1, 2, 2.5, 5, 10) if 4 * f * power >= top)
    return float(4 * step)


def line_chart(
    months: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    description: str,
    marks: Sequence[Mark] = (),
    number: Callable[[float], str] = str,
) -> Markup:
    """The chart as an ``<svg>`` element (``role="img"``, titled and described).

    ``months`` are the x-axis labels; ``number`` formats the y-axis values (a callable taking a
    float). Only every n-th month is labelled when there are many.

    >>> svg = line_chart(["jan", "feb", "mar"], [Series("a", [1.0, None, 2.0])],
    ...                  title="T", description="D")
    >>> svg.count("<polyline"), svg.count("<circle")
    (2, 2)
    """
    shown = [v for s in series for v in s.values if v is not None]
    top = _nice_top(max(shown, default=0.0))
    span = max(len(months), 1)
    inner_w, inner_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(at: float) -> float:
        return round(_LEFT + at / span * inner_w, 1)

    def y(value: float) -> float:
        return round(_TOP + inner_h * (1 - value / top), 1)

    legend, rows = _legend(series)
    height = HEIGHT + _ROW * (rows - 1)
    parts = [
        f'<svg class="trend-chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{_id(title)}-t {_id(title)}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_id(title)}-t">{escape(title)}</title>',
        f'<desc id="{_id(title)}-d">{escape(description)}</desc>',
    ]
    for i in range(5):
        value = top * i / 4
        parts.append(
            f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y(value)}" y2="{y(value)}" '
            f'stroke="#dddddd" stroke-width="1"/>'
            f'<text x="{_LEFT - 6}" y="{y(value) + 4}" text-anchor="end" font-size="13" '
            f'fill="#333333">{escape(number(value))}</text>'
        )
    step = max(1, math.ceil(len(months) / 12))
    for i, label in enumerate(months):
        if i % step == 0:
            parts.append(
                f'<text x="{x(i + 0.5)}" y="{HEIGHT - _BOTTOM + 18}" text-anchor="middle" '
                f'font-size="13" fill="#333333">{escape(label)}</text>'
            )
    for mark in marks:
        parts.append(
            f'<line x1="{x(mark.at)}" x2="{x(mark.at)}" y1="{_TOP - 8}" y2="{HEIGHT - _BOTTOM}" '
            f'stroke="{_MARK}" stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{x(mark.at) + 3}" y="{_TOP - 12}" font-size="13" '
            f'fill="{_MARK}">{escape(mark.label)}</text>'
        )
    for n, line in enumerate(series):
        parts.extend(_line(line, n, x, y))
    parts.append(legend)
    parts.append("</svg>")
    return Markup("".join(parts))


def _id(title: str) -> str:
    """An element id from a title (letters and digits only)."""
    return "trend-" + "".join(c for c in title.lower() if c.isalnum())[:40]


def _line(
    line: Series, n: int, x: Callable[[float], float], y: Callable[[float], float]
) -> list[str]:
    """The line's runs (broken at missing values) and its points."""
    colour, dash = _COLOURS[n % len(_COLOURS)], _DASHES[n % len(_DASHES)]
    runs: list[list[str]] = [[]]
    points = []
    for i, value in enumerate(line.values):
        if value is None:
            runs.append([])
            continue
        px, py = x(i + 0.5), y(value)
        runs[-1].append(f"{px},{py}")
        points.append(_point(n, px, py, colour))
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    drawn = [
        f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
        f'stroke-width="2.5"{dashed}/>'
        for run in runs
        if run
    ]
    return [*drawn, *points]


def _point(n: int, px: float, py: float, colour: str) -> str:
    """A point: a circle for even series, a square for odd ones."""
    if n % 2 == 0:
        return f'<circle cx="{px}" cy="{py}" r="3.5" fill="{colour}"/>'
    return f'<rect x="{px - 3.5}" y="{py - 3.5}" width="7" height="7" fill="{colour}"/>'


def _legend(series: Sequence[Series]) -> tuple[str, int]:
    """The series' names under the axis, each with its line's colour and dash, in as many
    rows as they need; and the number of rows."""
    parts, left, rows = [], float(_LEFT), 1
    for n, line in enumerate(series):
        colour, dash = _COLOURS[n % len(_COLOURS)], _DASHES[n % len(_DASHES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        width = 44 + 8 * len(line.label)
        if left > _LEFT and left + width > WIDTH - _RIGHT:
            left, rows = float(_LEFT), rows + 1
        top = HEIGHT - 10 + _ROW * (rows - 1)
        parts.append(
            f'<line x1="{left}" x2="{left + 24}" y1="{top - 4}" y2="{top - 4}" stroke="{colour}" '
            f'stroke-width="2.5"{dashed}/>'
            f'<text x="{left + 28}" y="{top}" font-size="13" fill="#333333">'
            f"{escape(line.label)}</text>"
        )
        left += width
    return "".join(parts), rows
