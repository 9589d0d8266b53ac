"""Quantitative charts for the report: lead-time distributions and before/after metric bars.

Inputs are plain numbers (per-case lead times, metric pairs); output is SVG or PNG bytes drawn
with matplotlib's Agg backend, text kept as text (``svg.fonttype = none``) so it stays
searchable and small when inlined in HTML.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from visualize.render import Format  # noqa: E402

__all__ = ["BEFORE_GREY", "AFTER_GREEN", "lead_time_distribution", "metric_bars"]

BEFORE_GREY = "#8E99A8"
AFTER_GREEN = "#1B7F3A"
_RC = {"svg.fonttype": "none", "font.family": "DejaVu Sans"}


def _bytes(fig: Figure, fmt: Format) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=110, metadata={"Date": None} if fmt == "svg" else None)
    plt.close(fig)
    return buffer.getvalue()


def lead_time_distribution(
    before: Sequence[float],
    after: Sequence[float],
    *,
    labels: tuple[str, str] = ("v1", "v2"),
    xlabel: str = "working days",
    fmt: Format = "svg",
) -> bytes:
    """Overlaid histograms (shared bins) of per-case lead times, medians marked.

    >>> lead_time_distribution([10, 12, 15], [4, 5, 6]).startswith(b"<?xml")
    True
    """
    values = np.asarray([*before, *after], dtype=float)
    top = float(values.max()) if values.size else 1.0
    bins = np.linspace(0.0, top * 1.02 or 1.0, 31)
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(9, 3.2))
        for data, colour, label in ((before, BEFORE_GREY, labels[0]), (after, AFTER_GREEN, labels[1])):
            if len(data) == 0:
                continue
            median = float(np.median(data))
            ax.hist(data, bins=bins, color=colour, alpha=0.55, label=f"{label} (n={len(data)}, "
                    f"median {median:.1f})")  # fmt: skip
            ax.axvline(median, color=colour, linestyle="--", linewidth=1.5)
        ax.set_xlabel(xlabel)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False, fontsize=9)
        fig.tight_layout()
        return _bytes(fig, fmt)


def metric_bars(
    rows: Sequence[tuple[str, float, float]],
    *,
    labels: tuple[str, str] = ("v1", "v2"),
    fmt: Format = "svg",
) -> bytes:
    """Horizontal before/after bars per metric, each scaled to its own larger value.

    ``rows`` holds ``(label, before, after)``; the after bar is annotated with the change in %.
    """
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(7, 0.55 * len(rows) + 0.8))
        for i, (label, before, after) in enumerate(rows):
            scale = max(abs(before), abs(after)) or 1.0
            ax.barh(i - 0.18, before / scale, height=0.34, color=BEFORE_GREY)
            ax.barh(i + 0.18, after / scale, height=0.34, color=AFTER_GREEN)
            ax.text(before / scale + 0.01, i - 0.18, f"{before:.1f}", va="center", fontsize=8)
            pct = f"  ({100 * (after - before) / before:+.0f} %)" if before else ""
            ax.text(after / scale + 0.01, i + 0.18, f"{after:.1f}{pct}", va="center", fontsize=8,
                    color=AFTER_GREEN)  # fmt: skip
        ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=9)
        ax.invert_yaxis()
        ax.set_xlim(0, 1.35)
        ax.set_xticks([])
        ax.spines[["top", "right", "bottom"]].set_visible(False)
        ax.legend(
            handles=[plt.Rectangle((0, 0), 1, 1, color=c) for c in (BEFORE_GREY, AFTER_GREEN)],
            labels=list(labels), frameon=False, fontsize=8, loc="lower right",
        )  # fmt: skip
        fig.tight_layout()
        return _bytes(fig, fmt)
