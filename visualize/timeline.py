"""The value-stream ladder: per step, waiting against touch time on one time axis.

Each work step is one row, in flow order; its expected wait is a grey bar (hatched when the
wait is on an outside party) and its touch time a coloured bar in its lane's colour, laid end to
end so the rows step down like a ladder towards the lead time. Several timelines (before and
after) share one x scale; each has a summary box with lead time, activity ratio and rolled %C&A.
A measured timeline (:mod:`boflyt.visualize.measured_timeline`) says so: its box gives the
cases and medians, the footnote what was measured and what was left out.
Drawn with matplotlib (Agg backend) to SVG or PNG.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from boflyt.models.words import Language, format_number, word
from boflyt.visualize.render import Format
from boflyt.visualize.swimlane_header import lane_colours
from boflyt.visualize.value_stream import MIN_GROUP, Timeline

__all__ = ["render_timelines", "shared_x_max"]

_WIDTH, _LEFT = 13.0, 3.4
"""Figure width and the left margin for step names, in inches (fixed: no tight_layout, which
measures every label and costs seconds at 200 steps)."""
_TOP, _BOTTOM, _ROW, _GAP = 0.45, 1.05, 0.24, 0.75
_FEW, _PAD = 8, 5
"""A ladder of fewer than ``_FEW`` steps is drawn with ``_PAD`` empty rows below it."""


def _t(key: str, lang: Language) -> str:
    return word(f"timeline.{key}", lang)


def _m(key: str, lang: Language, **values: object) -> str:
    return word(f"timeline_measured.{key}", lang).format(**values)


def _summary(timeline: Timeline) -> str:
    """The summary box: the design's expected figures, or a run set's medians and case count."""
    lang, f = timeline.lang, format_number
    hours = f"{f(timeline.touch_minutes / 60, lang)} {word('unit.hour_short', lang)}"
    if timeline.cases is None:
        rolled = "–" if timeline.rolled_ca is None else f(timeline.rolled_ca, lang, 0)
        return (
            f"{_t('lead', lang)}: {f(timeline.lead_days, lang)} d\n"
            f"{_t('touch', lang)}: {hours}\n"
            f"{_t('activity', lang)}: {f(timeline.activity_ratio, lang)} %\n"
            f"{_t('rolled', lang)}: {rolled} %"
        )
    lines = [
        _m("cases", lang, n=timeline.cases),
        f"{_m('lead', lang)}: {f(timeline.lead_days, lang)} d",
        f"{_m('touch', lang)}: {hours}",
        f"{_m('activity', lang)}: {f(timeline.activity_ratio, lang)} %",
    ]
    if timeline.rolled_ca is not None:
        lines.append(f"{_m('rolled', lang)}: {f(timeline.rolled_ca, lang, 0)} %")
    return "\n".join(lines)


def _note(timelines: Sequence[Timeline]) -> str:
    """The figure's footnote: how the bars were computed (design or measured, never mixed)."""
    lang = timelines[0].lang
    if all(t.cases is None for t in timelines):
        return _t("note", lang)
    parts = [_m("note", lang)]
    if any(t.rolled_ca is None for t in timelines):
        parts.append(_m("no_rolled", lang))
    hidden = sum(t.hidden for t in timelines)
    if hidden:
        parts.append(_m("hidden", lang, n=hidden, min=MIN_GROUP))
    return " ".join(parts)


def _short(text: str, width: int = 44) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _bars(timeline: Timeline, x_max: float) -> dict[str, list[float]]:
    """Row, start and width of every wait and touch bar, laid end to end."""
    bars: dict[str, list[float]] = {k: [] for k in ("row", "wait_left", "wait", "touch_left")}
    bars["touch"], bars["external"] = [], []
    clock = 0.0
    for row, step in enumerate(timeline.steps):
        bars["row"].append(row)
        bars["wait_left"].append(clock)
        bars["wait"].append(step.wait_days)
        bars["external"].append(1.0 if step.external else 0.0)
        clock += step.wait_days
        bars["touch_left"].append(clock)
        bars["touch"].append(max(step.touch_days, x_max / 400))
        clock += step.touch_days
    return bars


def _rows(timeline: Timeline) -> int:
    """The rows an axis is drawn with: a short ladder gets :data:`_PAD` empty rows below it,
    for the summary box to sit in without covering a bar."""
    steps = max(len(timeline.steps), 1)
    return steps + _PAD if steps < _FEW else steps


def _draw(ax: Axes, timeline: Timeline, x_max: float) -> None:
    lang = timeline.lang
    colours = {lane: pair[0] for lane, pair in lane_colours(timeline.lanes).items()}
    b = _bars(timeline, x_max)
    for external in (False, True):
        pick = [i for i, e in enumerate(b["external"]) if bool(e) is external and b["wait"][i] > 0]
        if pick:
            ax.barh([b["row"][i] for i in pick], [b["wait"][i] for i in pick],
                    left=[b["wait_left"][i] for i in pick], height=0.55,
                    color="#D9D9D9" if external else "#F4C7C3",
                    edgecolor="#8C8C8C" if external else "#D9534F",
                    hatch="///" if external else None, linewidth=0.6)  # fmt: skip
    ax.barh(b["row"], b["touch"], left=b["touch_left"], height=0.75,
            color=[colours.get(s.lane, "#555555") for s in timeline.steps])  # fmt: skip
    if len(timeline.steps) <= 60:
        for row, step in enumerate(timeline.steps):
            end = b["touch_left"][row] + step.touch_days + x_max / 150
            minutes = format_number(step.touch_minutes, lang, 0)
            ax.text(end, row, f"{minutes} min", va="center", fontsize=8,
                    color="#333333")  # fmt: skip
    labels = [f"{s.number or ''}  {_short(s.label)}" for s in timeline.steps]
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    rows = _rows(timeline)
    ax.set_ylim(rows - 0.5, -0.5)  # top row first; a short ladder's empty rows at the bottom
    ax.axvline(timeline.lead_days, color="#222222", linestyle="--", linewidth=1)
    ax.set_xlim(0, x_max)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#EEEEEE")
    ax.set_axisbelow(True)
    box = {"boxstyle": "round,pad=0.5", "fc": "white", "ec": "#9AA5B1"}
    low = rows > len(timeline.steps)  # a short ladder: the box below it, else top right
    ax.text(0.99, 0.03 if low else 0.97, _summary(timeline), transform=ax.transAxes,
            ha="right", va="bottom" if low else "top", fontsize=9, bbox=box)  # fmt: skip
    ax.set_title(timeline.title, loc="left", fontsize=11, fontweight="bold")


def shared_x_max(timelines: Sequence[Timeline]) -> float:
    """The common right edge of the time axis: 5 % beyond the longest ladder or lead time."""
    return 1.05 * max(max(t.summed_days, t.lead_days) for t in timelines) or 1.0


def render_timelines(timelines: Sequence[Timeline], fmt: Format = "svg") -> bytes:
    """One figure with a ladder per timeline, all on the same x scale (working days).

    >>> from tests.factories import linear_version
    >>> from visualize.value_stream import extract_timeline
    >>> render_timelines([extract_timeline(linear_version())]).startswith(b"<?xml")
    True
    """
    if not timelines:
        raise ValueError("render_timelines: no timeline given")
    lang = timelines[0].lang
    x_max = shared_x_max(timelines)
    rows = [_rows(t) for t in timelines]
    height = _TOP + _BOTTOM + sum(_ROW * r for r in rows) + _GAP * (len(rows) - 1)
    grid = {
        "height_ratios": rows,
        "hspace": _GAP / (_ROW * sum(rows) / len(rows)),
        "left": _LEFT / _WIDTH,
        "right": 0.98,
        "top": 1 - _TOP / height,
        "bottom": _BOTTOM / height,
    }
    with plt.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans"}):
        fig, axes = plt.subplots(
            len(timelines), 1, figsize=(_WIDTH, height), squeeze=False, gridspec_kw=grid
        )
        for ax, timeline in zip(axes[:, 0], timelines, strict=True):
            _draw(ax, timeline, x_max)
        axes[-1, 0].set_xlabel(_t("x", lang), fontsize=9)
        handles = [
            Patch(facecolor="#F4C7C3", edgecolor="#D9534F", label=_t("wait", lang)),
            Patch(facecolor="#D9D9D9", edgecolor="#8C8C8C", hatch="///", label=_t("ext", lang)),
        ]
        lanes = {lane.id: lane for t in timelines for lane in t.lanes}
        colours = lane_colours(list(lanes.values()))
        handles += [
            Patch(facecolor=colours[key][0], label=f"{_t('work', lang)}: {lane.label}")
            for key, lane in lanes.items()
        ]
        fig.legend(handles=handles, loc="lower left", ncols=4, fontsize=8, frameon=False)
        note = "\n".join(textwrap.wrap(_note(timelines), 95))
        fig.text(0.99, 0.005, note, ha="right", va="bottom", fontsize=8, color="#555555")
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=110, metadata={"Date": None} if fmt == "svg" else None)
        plt.close(fig)
    return buffer.getvalue()
