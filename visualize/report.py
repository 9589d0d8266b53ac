"""The workshop report: one self-contained HTML file per process, and an index of them.

Everything is inline (SVG figures, CSS, one small pan/zoom script); the file needs no network or
fonts. Diagrams are embedded at their size in CSS pixels (:func:`~boflyt.visualize.svg.inline_svg`),
so their text is readable at 100 %; wide ones scroll and zoom inside the page, and print scaled
to A4 landscape with a page per section. Numbers come from the analysis package only
(:func:`~boflyt.analysis.design.design_metrics`,
:func:`~boflyt.analysis.observed.observed_metrics`); the
summary sentence is generated from the same figures. Figures from case runs stand on one run set
per version, named with its n wherever they are shown (:mod:`boflyt.visualize.run_set_text`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from boflyt.analysis.compare import Comparison
from boflyt.analysis.report_data import ReportData, report_data
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.runset import RunSetInfo
from boflyt.models.words import DEFAULT_LANGUAGE, Language, format_number, word
from boflyt.visualize.charts import lead_time_distribution
from boflyt.visualize.extraction import extract_comparison, extract_swimlane, overlay_swimlane
from boflyt.visualize.render import Renderer, find_renderer
from boflyt.visualize.report_text import card, outcome_table_html, table_html, texts, waste_rows
from boflyt.visualize.run_set_text import comparison_summary, kind_of, run_text, runs_line
from boflyt.visualize.side_by_side import stack_svgs
from boflyt.visualize.svg import inline_svg
from boflyt.visualize.swimlane import render_swimlane
from boflyt.visualize.timeline import render_timelines
from boflyt.visualize.value_stream import extract_timeline
from boflyt.visualize.wording import waste_label

__all__ = ["ReportEntry", "build_index", "build_report", "render_report"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("boflyt.visualize", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """What :func:`build_index` needs to know about one written report."""

    process: str
    name: str
    before: str
    after: str
    path: Path
    handoffs: tuple[float, float]
    transactions: tuple[float, float]
    lead_days: tuple[float, float]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly data (what the report flow returns)."""
        pairs = {key: list(getattr(self, key)) for key in _PAIRS}
        return {**asdict(self), "path": str(self.path), **pairs}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportEntry:
        """The entry back from :meth:`as_dict`'s data."""
        pairs = {key: (float(data[key][0]), float(data[key][1])) for key in _PAIRS}
        return cls(
            data["process"], data["name"], data["before"], data["after"], Path(data["path"]),
            **pairs,
        )  # fmt: skip


_PAIRS = ("handoffs", "transactions", "lead_days")
"""The entry's before → after figures."""


def _inline(svg: bytes) -> str:
    """An SVG document as an element to inline in HTML, sized in CSS pixels (not points)."""
    return inline_svg(svg)


def build_report(
    before: Version,
    after: Version,
    path: Path,
    *,
    lanes: LaneCatalog,
    before_events: pl.DataFrame | None = None,
    after_events: pl.DataFrame | None = None,
    before_runs: RunSetInfo | None = None,
    after_runs: RunSetInfo | None = None,
    lang: Language = DEFAULT_LANGUAGE,
    renderer: Renderer | None = None,
    generated: dt.datetime | None = None,
    seed: int = 0,
) -> ReportEntry:
    """Write the before/after report of two versions of one process to ``path``.

    Every figure is computed once, by :func:`boflyt.analysis.report_data.report_data` (design
    metrics always; run-based metrics with 95 % bootstrap intervals when both event logs are
    given, e.g. from ``engine.store.event_frame(runs=…)``), then rendered by
    :func:`render_report`. With events the report also shows the lead-time distributions and
    the swimlanes coloured by waiting time. Each log is one run set: ``before_runs``/
    ``after_runs`` name it (from ``engine.queries.describe_run_set``); without them it is named
    by its mode and case count. Every heading, table and chart of run-based figures says which
    set and n, and only live and imported sets are called measured.

    Raises:
        RenderError: when no Graphviz renderer is found or it fails.
        CommandError: a log holds more than one mode of runs.
    """
    data = report_data(
        before, after, lanes=lanes, before_events=before_events, after_events=after_events,
        before_runs=before_runs, after_runs=after_runs, seed=seed,
    )  # fmt: skip
    return render_report(data, path, lanes=lanes, lang=lang, renderer=renderer, generated=generated)


def render_report(
    data: ReportData,
    path: Path,
    *,
    lanes: LaneCatalog,
    lang: Language = DEFAULT_LANGUAGE,
    renderer: Renderer | None = None,
    generated: dt.datetime | None = None,
) -> ReportEntry:
    """Write the report of figures already computed (:class:`ReportData`) to ``path``.

    Raises:
        RenderError: when no Graphviz renderer is found or it fails.
    """
    renderer = renderer or find_renderer()
    before, after, comparison = data.before, data.after, data.comparison
    t = texts(lang) | _run_texts(data.runs, lang)
    figures = _figures(data, lanes, lang, renderer)
    figures |= _outcomes(data, lang)
    figures |= _observed_figures(data, lanes, lang, renderer)
    design = [r for r in comparison.rows if r.source == "design"]
    measured = [r for r in comparison.rows if r.source == "observed"]
    cases = (len(data.lead_days(0)), len(data.lead_days(1)))
    html = _ENV.get_template("report.html.j2").render(
        lang=lang,
        t=t,
        title=f"{after.name.get(lang)}: v{before.version} → v{after.version}",
        subtitle=f"{before.label} → {after.label} · {after.owner}",
        generated=_stamp(generated),
        before_key=before.key,
        after_key=after.key,
        before_hash=before.content_hash[:12],
        after_hash=after.content_hash[:12],
        toc=_toc(t, bool(measured), figures["outcome_title"] if figures["outcome_table"] else ""),
        summary=comparison_summary(comparison, data.runs if measured else None, lang),
        cards=[card(comparison.row(key), lang) for key in _CARD_KEYS],
        design_table=table_html(design, "design", lang),
        observed_table=table_html(measured, "observed", lang, cases=cases) if measured else "",
        waste_rows=waste_rows(comparison.wastes, lang),
        removed_steps=_removed_steps(data, lang),
        duplicates=_duplicate_lines(data, lang),
        **figures,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return _entry(after, before, path, comparison, lang)


def _stamp(generated: dt.datetime | None) -> str:
    """When a page was generated, in UTC (now unless given)."""
    return (generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")


def _entry(
    after: Version, before: Version, path: Path, c: Comparison, lang: Language
) -> ReportEntry:
    def pair(key: str) -> tuple[float, float]:
        row = c.row(key)
        return (row.before or 0.0, row.after or 0.0)

    return ReportEntry(
        process=after.process,
        name=after.name.get(lang),
        before=before.key,
        after=after.key,
        path=path,
        handoffs=pair("expected_handoffs"),
        transactions=pair("expected_transactions"),
        lead_days=pair("lead_days"),
    )


def _run_texts(runs: tuple[RunSetInfo, RunSetInfo] | None, lang: Language) -> dict[str, str]:
    """The headings of the run-based section, by the kind of its run sets, and the sets' line."""
    if runs is None:
        return {}
    kind = kind_of(*runs)
    return {
        "observed": run_text("heading", lang, kind),
        "distribution": run_text("distribution", lang, kind),
        "overlay": run_text("overlay", lang, kind),
        "runs": runs_line(*runs, lang),
    }


def _removed_steps(data: ReportData, lang: Language) -> list[str]:
    return [
        f"{s.name.get(lang)} ({', '.join(waste_label(w.value, lang) for w in s.wastes) or '-'})"
        for s in data.diff.steps_removed
    ]


def _observed_figures(
    data: ReportData, lanes: LaneCatalog, lang: Language, renderer: Renderer
) -> dict[str, str]:
    """The lead-time distributions and the swimlanes coloured by each run set's waits."""
    (o_before, o_after), runs = data.observed, data.runs
    if o_before is None or o_after is None or runs is None:
        return {"svg_distribution": "", "svg_overlay": ""}
    before, after = data.before, data.after
    labels = (
        f"v{before.version}, {runs[0].label(lang)}",
        f"v{after.version}, {runs[1].label(lang)}",
    )
    distribution = lead_time_distribution(
        data.lead_days(0), data.lead_days(1),
        labels=labels, xlabel=texts(lang)["working_days"], lang=lang,
    )  # fmt: skip
    sides = zip((before, after), (o_before, o_after), runs, data.design, strict=True)
    diagrams = [
        overlay_swimlane(v, lanes, o, r, lang, duplicates=m.duplicates) for v, o, r, m in sides
    ]
    overlays = [render_swimlane(d, "svg", renderer=renderer) for d in diagrams]
    return {"svg_distribution": _inline(distribution), "svg_overlay": _inline(stack_svgs(overlays))}


_CARD_KEYS = ("expected_handoffs", "expected_transactions", "lead_days", "activity_ratio")


def _figures(
    data: ReportData, lanes: LaneCatalog, lang: Language, renderer: Renderer
) -> dict[str, str]:
    """Both swimlanes, the marked comparison and the value-stream timelines."""
    sides = ((data.before, data.design[0]), (data.after, data.design[1]))
    swimlanes = [
        extract_swimlane(
            v, lanes, lang=lang, lead_time_days=m["lead_days"], duplicates=m.duplicates
        )
        for v, m in sides
    ]
    comparison = extract_comparison(
        data.before, data.after, lanes, lang=lang,
        before_metrics=data.design[0], after_metrics=data.design[1], diff=data.diff,
    )  # fmt: skip
    timelines = [
        extract_timeline(v, lanes, lang=lang, metrics=m, diagram=d)
        for (v, m), d in zip(sides, swimlanes, strict=True)
    ]
    svg = [_inline(render_swimlane(d, "svg", renderer=renderer)) for d in swimlanes]
    return {
        "svg_before": svg[0],
        "svg_after": svg[1],
        "svg_compare": _inline(render_swimlane(comparison, "svg", renderer=renderer)),
        "svg_timeline": _inline(render_timelines(timelines, "svg")),
    }


def _outcomes(data: ReportData, lang: Language) -> dict[str, str]:
    """The outcome-metrics section: designed figures, and each event log's by source and n."""
    return {
        "outcome_title": word("outcome.report_title", lang),
        "outcome_note": word("outcome.note", lang),
        "outcome_table": outcome_table_html(
            data.before, data.after, data.logged_outcomes, lang, designed=data.designed_outcomes
        ),
    }


def _toc(t: dict[str, str], observed: bool, outcomes: str = "") -> list[tuple[str, str]]:
    items = [
        ("summary", t["summary"]),
        ("swimlane-before", t["swimlane"] + " " + t["before"]),
        ("swimlane-after", t["swimlane"] + " " + t["after"]),
        ("before-after", t["before_after"]),
        ("timeline", t["timeline"]),
        ("design-metrics", t["design"]),
    ]
    if outcomes:
        items.append(("outcome-metrics", outcomes))
    if observed:
        items.append(("observed-metrics", t["observed"]))
    return [*items, ("waste", t["waste"])]


def _duplicate_lines(data: ReportData, lang: Language) -> list[str]:
    """Each duplicated field's registrations, before → after."""
    old, new = ({d.field: len(d.steps) for d in m.duplicates} for m in data.design)
    word = texts(lang)["registrations"]
    return [f"{name}: {old.get(name, 1)} → {new.get(name, 1)} {word}" for name in sorted(old | new)]


def _pair(values: tuple[float, float], lang: Language, unit: str = "") -> str:
    """``before → after``, each with one decimal by the one number formatter."""
    before, after = (format_number(value, lang) for value in values)
    return f"{before} → {after}{unit}"


def build_index(
    reports: Sequence[ReportEntry],
    path: Path,
    *,
    lang: Language = DEFAULT_LANGUAGE,
    generated: dt.datetime | None = None,
) -> Path:
    """Write ``reports/index.html``: one line per process, linking its report (relative links)."""
    t = texts(lang)
    rows = [
        {
            "href": _relative(r.path, path.parent),
            "name": r.name,
            "versions": f"{r.before} → {r.after}",
            "handoffs": _pair(r.handoffs, lang),
            "transactions": _pair(r.transactions, lang),
            "lead": _pair(r.lead_days, lang, " d"),
        }
        for r in sorted(reports, key=lambda r: r.process)
    ]
    html = _ENV.get_template("index.html.j2").render(
        lang=lang,
        t=t,
        title=t["index_title"],
        rows=rows,
        generated=_stamp(generated),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def _relative(target: Path, folder: Path) -> str:
    try:
        return target.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return target.resolve().as_uri()
