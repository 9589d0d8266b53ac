"""How screens and reports name the run sets a figure stands on: headings, captions, sentences.

A figure computed from case runs always says which run set it comes from and how many cases
(:meth:`~boflyt.models.runset.RunSetInfo.label`: "simulert: kjøring 3, frø 7, 400 saker"). Only
live and imported runs are called measured ("målt", "observed"); simulated ones are "simulert"
("simulated"), and a comparison of a simulation with registered runs says both. Used by the
report, the ``compare``/``analyse`` commands and the comparison flow alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

from boflyt.analysis.compare import Comparison, Row
from boflyt.models.runset import RunSetInfo
from boflyt.models.words import Language, format_number, word

__all__ = [
    "Kind",
    "comparison_summary",
    "kind_of",
    "run_sentences",
    "run_text",
    "runs_line",
    "scale_title",
]

Kind = Literal["measured", "simulated", "mixed"]


def run_text(key: str, lang: Language, kind: Kind | None = None) -> str:
    """A word of this module: ``run_text("heading", "nb", "simulated")`` → "Simulerte verdier …"."""
    return word(f"run_set.{key}_{kind}" if kind else f"run_set.{key}", lang)


def kind_of(*sets: RunSetInfo) -> Kind:
    """``measured`` when every set is live or imported, ``simulated`` when every one is
    simulated, else ``mixed``."""
    measured = {info.measured for info in sets}
    if measured == {True}:
        return "measured"
    return "simulated" if measured == {False} else "mixed"


def runs_line(before: RunSetInfo, after: RunSetInfo, lang: Language) -> str:
    """The two sets: Før (p@v1): simulert: kjøring 3, frø 7, 400 saker · Etter (p@v2): …"""
    return " · ".join(
        f"{run_text(side, lang)} ({info.version_key}): {info.label(lang)}"
        for side, info in (("before", before), ("after", after))
    )


def scale_title(info: RunSetInfo, lang: Language) -> str:
    """The colour scale of a waiting-time overlay: "ventetid (arbeidsdager), registrert (n=12)"."""
    return f"{run_text('scale', lang)}, {info.label(lang)}"


def _unit(row: Row, lang: Language) -> str:
    if row.unit == "wd":
        return " " + word("unit.wd", lang)
    if row.unit == "min":
        return " " + word("unit.minutes", lang)
    return " %" if row.unit == "%" else ""


def _sentence(row: Row, name: str, lang: Language) -> str:
    assert row.before is not None and row.after is not None and row.change is not None
    values = f"{format_number(row.before, lang)} → {format_number(row.after, lang)}"
    detail = f"{run_text('difference', lang)} {format_number(row.change, lang, 2)}"
    if row.ci_low is not None and row.ci_high is not None:
        ci = run_text("ci", lang).format(
            low=format_number(row.ci_low, lang, 2), high=format_number(row.ci_high, lang, 2)
        )
        detail += f"; {ci}"
    return f"{name}: {values}{_unit(row, lang)} {run_text('per_finished', lang)} ({detail})."


def run_sentences(
    rows: Sequence[Row], before: RunSetInfo, after: RunSetInfo, lang: Language
) -> list[str]:
    """One sentence per run-based row, named by the kind of runs it stands on.

    "Gjennomløpstid (simulert): 141,9 → 41,2 arbeidsdager per avsluttet sak (forskjell −100,75;
    95 % KI …)"; when the two sets differ in kind: "Gjennomløpstid (registrert → simulert): …".
    """
    kinds = before.kind(lang), after.kind(lang)
    source = kinds[0] if kinds[0] == kinds[1] else " → ".join(kinds)
    return [
        _sentence(row, f"{row.label(lang)} ({source})", lang)
        for row in rows
        if row.source != "design" and row.before is not None and row.after is not None
    ]


def comparison_summary(
    comparison: Comparison, runs: tuple[RunSetInfo, RunSetInfo] | None, lang: Language
) -> list[str]:
    """The comparison's plain-language sentences: the design story, then one sentence per
    run-based figure named by its run sets (none without ``runs``)."""
    design = tuple(row for row in comparison.rows if row.source == "design")
    sentences = dataclasses.replace(comparison, rows=design).summary(lang)
    if runs is None:
        return sentences
    return sentences + run_sentences(comparison.rows, *runs, lang)
