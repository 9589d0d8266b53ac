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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import jinja2
import polars as pl

from boflyt.analysis.compare import Comparison, compare
from boflyt.analysis.design import DesignMetrics, design_metrics
from boflyt.analysis.observed import ObservedMetrics, observed_metrics
from boflyt.analysis.outcomes import logged_outcomes
from boflyt.analysis.waste import duplicate_registrations
from boflyt.engine.definition.diff import diff_versions
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import CommandError
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.vocabulary import Mode
from boflyt.models.words import DEFAULT_LANGUAGE, Language, format_number, word
from boflyt.visualize.charts import lead_time_distribution
from boflyt.visualize.diagram import Swimlane, WaitScale, extract_comparison, extract_swimlane
from boflyt.visualize.render import Renderer, find_renderer
from boflyt.visualize.report_text import card, outcome_table_html, table_html, texts, waste_rows
from boflyt.visualize.run_set_text import (
    comparison_summary,
    kind_of,
    run_text,
    runs_line,
    scale_title,
)
from boflyt.visualize.side_by_side import stack_svgs
from boflyt.visualize.svg import inline_svg
from boflyt.visualize.swimlane import render_swimlane
from boflyt.visualize.timeline import render_timelines
from boflyt.visualize.value_stream import extract_timeline
from boflyt.visualize.wording import waste_label

__all__ = ["ReportEntry", "build_index", "build_report", "overlay_swimlane", "runs_of"]

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


def _inline(svg: bytes) -> str:
    """An SVG document as an element to inline in HTML, sized in CSS pixels (not points)."""
    return inline_svg(svg)


def _observed(events: pl.DataFrame | None, version: Version) -> ObservedMetrics | None:
    if events is None or events.is_empty():
        return None
    return observed_metrics(events, version=version)


def _lead_days(observed: ObservedMetrics | None, version: Version) -> list[float]:
    """Lead times of the finished cases of ``version`` in an observed log."""
    if observed is None:
        return []
    finished = observed.cases.filter(
        (pl.col("status") == "finished")
        & (pl.col("process") == version.process)
        & (pl.col("version") == version.version)
    )
    return [float(v) for v in finished["lead_days"].drop_nulls()]


def runs_of(events: pl.DataFrame, version: Version) -> RunSetInfo:
    """The run set of a log given without one (a library caller's frame), named by its mode.

    Raises:
        CommandError: the log holds runs of more than one mode (run sets are never pooled).
    """
    modes = sorted(set(events["mode"].unique().drop_nulls()))
    if len(modes) != 1:
        raise CommandError(
            f"the event log of {version.key} holds runs of {', '.join(modes) or 'no mode'}; "
            "a figure stands on one run set; give each version's log of one set"
        )
    cases = events.filter(
        (pl.col("process") == version.process) & (pl.col("version") == version.version)
    )["case_id"].n_unique()
    return RunSetInfo(RunSet(Mode(modes[0])), version.process, version.version, cases)


def overlay_swimlane(
    version: Version,
    lanes: LaneCatalog,
    observed: ObservedMetrics,
    runs: RunSetInfo,
    lang: Language,
) -> Swimlane:
    """The swimlane coloured by the waiting times of one run set; its scale names the set."""
    steps = {
        str(r["step"]): float(r["mean_wait_days"])
        for r in observed.bottlenecks.iter_rows(named=True)
        if r["mean_wait_days"] is not None
    }
    pairs = {
        (str(r["from_lane"]), str(r["to_lane"])): float(r["mean_days"])
        for r in observed.handoff_waits.iter_rows(named=True)
        if r["mean_days"] is not None
    }
    diagram = extract_swimlane(
        version, lanes, lang=lang, observed_step_waits=steps, observed_handoff_waits=pairs
    )
    if diagram.wait_scale is not None:  # the scale names the run set it was measured on
        scale = WaitScale(diagram.wait_scale.max_days, scale_title(runs, lang))
        diagram = replace(diagram, wait_scale=scale)
    return diagram


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

    Every figure comes from :func:`boflyt.analysis.compare.compare` (design metrics always;
    run-based metrics with 95 % bootstrap intervals when both event logs are given, e.g. from
    ``engine.store.event_frame(runs=…)``). With events the report also shows the lead-time
    distributions and the swimlanes coloured by waiting time. Each log is one run set:
    ``before_runs``/``after_runs`` name it (from ``engine.queries.describe_run_set``); without
    them it is named by its mode and case count. Every heading, table and chart of run-based
    figures says which set and n, and only live and imported sets are called measured.

    Raises:
        RenderError: when no Graphviz renderer is found or it fails.
        CommandError: a log holds more than one mode of runs.
    """
    renderer = renderer or find_renderer()
    comparison = compare(
        before, after, before_events=before_events, after_events=after_events,
        lanes=lanes, seed=seed,
    )  # fmt: skip
    m_before, m_after = design_metrics(before, lanes=lanes), design_metrics(after, lanes=lanes)
    observed = _observed(before_events, before), _observed(after_events, after)
    runs = _runs(before, after, (before_events, after_events), (before_runs, after_runs))
    t = texts(lang) | _run_texts(runs, lang)
    figures = _figures(before, after, lanes, lang, renderer, m_before, m_after)
    figures |= _outcomes(before, after, (before_events, after_events), lang)
    figures |= _observed_figures(before, after, lanes, lang, renderer, observed, runs)
    design = [r for r in comparison.rows if r.source == "design"]
    measured = [r for r in comparison.rows if r.source == "observed"]
    cases = (len(_lead_days(observed[0], before)), len(_lead_days(observed[1], after)))
    html = _ENV.get_template("report.html.j2").render(
        lang=lang,
        t=t,
        title=f"{after.name.get(lang)}: v{before.version} → v{after.version}",
        subtitle=f"{before.label} → {after.label} · {after.owner}",
        generated=(generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        before_key=before.key,
        after_key=after.key,
        before_hash=before.content_hash[:12],
        after_hash=after.content_hash[:12],
        toc=_toc(t, bool(measured), figures["outcome_title"] if figures["outcome_table"] else ""),
        summary=comparison_summary(comparison, runs if measured else None, lang),
        cards=[card(comparison.row(key), lang) for key in _CARD_KEYS],
        design_table=table_html(design, "design", lang),
        observed_table=table_html(measured, "observed", lang, cases=cases) if measured else "",
        waste_rows=waste_rows(comparison.wastes, lang),
        removed_steps=_removed_steps(before, after, lang),
        duplicates=_duplicate_lines(before, after, lang),
        **figures,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return _entry(after, before, path, comparison, lang)


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


def _runs(
    before: Version,
    after: Version,
    events: tuple[pl.DataFrame | None, pl.DataFrame | None],
    named: tuple[RunSetInfo | None, RunSetInfo | None],
) -> tuple[RunSetInfo, RunSetInfo] | None:
    """The run set of each side's log: as named by the caller, else from the log itself."""
    if events[0] is None or events[1] is None:
        return None
    b, a = named
    return (b or runs_of(events[0], before), a or runs_of(events[1], after))


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


def _removed_steps(before: Version, after: Version, lang: Language) -> list[str]:
    return [
        f"{s.name.get(lang)} ({', '.join(waste_label(w.value, lang) for w in s.wastes) or '-'})"
        for s in diff_versions(before, after).steps_removed
    ]


def _observed_figures(
    before: Version,
    after: Version,
    lanes: LaneCatalog,
    lang: Language,
    renderer: Renderer,
    observed: tuple[ObservedMetrics | None, ObservedMetrics | None],
    runs: tuple[RunSetInfo, RunSetInfo] | None,
) -> dict[str, str]:
    o_before, o_after = observed
    if o_before is None or o_after is None or runs is None:
        return {"svg_distribution": "", "svg_overlay": ""}
    labels = (
        f"v{before.version}, {runs[0].label(lang)}",
        f"v{after.version}, {runs[1].label(lang)}",
    )
    distribution = lead_time_distribution(
        _lead_days(o_before, before), _lead_days(o_after, after),
        labels=labels, xlabel=texts(lang)["working_days"], lang=lang,
    )  # fmt: skip
    overlays = [
        render_swimlane(overlay_swimlane(v, lanes, o, r, lang), "svg", renderer=renderer)
        for v, o, r in ((before, o_before, runs[0]), (after, o_after, runs[1]))
    ]
    return {"svg_distribution": _inline(distribution), "svg_overlay": _inline(stack_svgs(overlays))}


_CARD_KEYS = ("expected_handoffs", "expected_transactions", "lead_days", "activity_ratio")


def _figures(
    before: Version,
    after: Version,
    lanes: LaneCatalog,
    lang: Language,
    renderer: Renderer,
    m_before: DesignMetrics,
    m_after: DesignMetrics,
) -> dict[str, str]:
    swim = {
        name: _inline(
            render_swimlane(
                extract_swimlane(v, lanes, lang=lang, lead_time_days=m["lead_days"]),
                "svg",
                renderer=renderer,
            )
        )
        for name, v, m in (("svg_before", before, m_before), ("svg_after", after, m_after))
    }
    comparison = extract_comparison(
        before, after, lanes, lang=lang, before_metrics=m_before, after_metrics=m_after
    )
    timelines = [
        extract_timeline(v, lanes, lang=lang, metrics=m)
        for v, m in ((before, m_before), (after, m_after))
    ]
    return {
        **swim,
        "svg_compare": _inline(render_swimlane(comparison, "svg", renderer=renderer)),
        "svg_timeline": _inline(render_timelines(timelines, "svg")),
    }


def _outcomes(
    before: Version,
    after: Version,
    events: tuple[pl.DataFrame | None, pl.DataFrame | None],
    lang: Language,
) -> dict[str, str]:
    """The outcome-metrics section: designed figures, and each event log's by source and n."""
    logged = tuple(
        [] if log is None or log.is_empty() else logged_outcomes(log, version)
        for log, version in zip(events, (before, after), strict=True)
    )
    return {
        "outcome_title": word("outcome.report_title", lang),
        "outcome_note": word("outcome.note", lang),
        "outcome_table": outcome_table_html(before, after, (logged[0], logged[1]), lang),
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


def _duplicate_lines(before: Version, after: Version, lang: Language) -> list[str]:
    old = {d.field: len(d.steps) for d in duplicate_registrations(before)}
    new = {d.field: len(d.steps) for d in duplicate_registrations(after)}
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
        generated=(generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def _relative(target: Path, folder: Path) -> str:
    try:
        return target.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return target.resolve().as_uri()
