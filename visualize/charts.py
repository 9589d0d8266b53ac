"""Quantitative charts for the report: lead-time distributions before and after.

Inputs are plain numbers (per-case lead times); output is SVG or PNG bytes drawn
with matplotlib's Agg backend, text kept as text (``svg.fonttype = none``) so it stays
searchable and small when inlined in HTML.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from boflyt.models.words import ENGLISH, Language, format_number, word
from boflyt.visualize.render import Format

__all__ = ["AFTER_GREEN", "BEFORE_GREY", "lead_time_distribution"]

BEFORE_GREY = "#8E99A8"
AFTER_GREEN = "#1B7F3A"


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
    lang: Language = ENGLISH,
) -> bytes:
    """Overlaid histograms (shared bins) of per-case lead times, medians marked.

    >>> lead_time_distribution([10, 12, 15], [4, 5, 6]).startswith(b"<?xml")
    True
    """
    values = np.asarray([*before, *after], dtype=float)
    top = float(values.max()) if values.size else 1.0
    bins = np.linspace(0.0, top * 1.02 or 1.0, 31).tolist()
    with plt.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans"}):
        fig, ax = plt.subplots(figsize=(9, 3.2))
        for data, colour, label in (
            (before, BEFORE_GREY, labels[0]),
            (after, AFTER_GREEN, labels[1]),
        ):
            if len(data) == 0:
                continue
            median = float(np.median(data))
            n, mid = format_number(len(data), lang, 0), format_number(median, lang)
            ax.hist(data, bins=bins, color=colour, alpha=0.55,
                    label=f"{label} (n={n}, {word('timeline.median', lang)} {mid})")  # fmt: skip
            ax.axvline(median, color=colour, linestyle="--", linewidth=1.5)
        ax.set_xlabel(xlabel)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False, fontsize=9)
        fig.tight_layout()
        return _bytes(fig, fmt)
