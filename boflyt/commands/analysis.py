"""CLI commands for LEAN facilitators: ``analyse`` (one version) and ``compare`` (two).

A thin shell over :mod:`boflyt.analysis.design`, :mod:`boflyt.analysis.observed` and
:mod:`boflyt.analysis.compare`:
rich tables with bokmål labels by default (``--lang en`` for English), or the same figures as
JSON with ``--json``. ``--observed`` adds the metrics of one run set per version (``--runs``;
default ``live``, the registered cases); every run-based table names its set and n, and a
simulation's figures are called simulated, never observed. ``analyse --runs imported:NAME``
needs no PROCESS: the import names its own process and version; for an imported set the JSON
also has the import (``import``), whether touch time is known (``touch_time``), the handoffs
per ordered organisation pair (``handoff_pairs``) and each case's start, end and lead time
(``case_bounds``), and the tables say when the log had completions only.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Annotated, Any

import polars as pl
import typer
from rich.table import Table
from rich.text import Text

from boflyt.analysis.accuracy import Accuracy, observed_accuracy
from boflyt.analysis.compare import Comparison, compare
from boflyt.analysis.design import DESIGN_METRICS, DesignMetrics, design_metrics
from boflyt.analysis.observed import CASE_METRICS, ObservedMetrics, observed_metrics
from boflyt.analysis.outcomes import DESIGNED, OutcomeFigure, logged_outcomes, outcome_table
from boflyt.commands.language import LangOption, chosen
from boflyt.commands.runs import RunsOption, chosen_run_sets, load_run_sets
from boflyt.console import console, fail, friendly_errors
from boflyt.engine.calendar import DEFAULT_CALENDAR
from boflyt.engine.definition.load import Library, load_library, parse_ref
from boflyt.engine.store.eventlog import run_set_log
from boflyt.engine.store.imports import get_import
from boflyt.models.definition import OutcomeMetric, Version
from boflyt.models.errors import NotFoundError
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.tables import ImportedLog
from boflyt.models.vocabulary import EventKind, Mode, Waste
from boflyt.models.words import Language, format_number, term, word
from boflyt.visualize.run_set_text import comparison_summary, kind_of, run_text, runs_line
from boflyt.workspace import Workspace

__all__ = ["register"]


ObservedOption = Annotated[
    bool,
    typer.Option(
        "--observed",
        help="Add the metrics of one run set per version (--runs; default: live, the "
        "registered cases).",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the same figures as JSON instead of tables.")
]

_UNIT = {"count": "unit.count", "min": "unit.min", "wd": "unit.wd", "%": "unit.percent"}


def _t(key: str, lang: Language) -> str:
    return word(f"analyse.{key}", lang)


def _library() -> Library:
    return load_library(Workspace.current().processes_dir)


def _lane(library: Library, lane: str, lang: Language) -> str:
    found = library.lanes.get(lane)
    return found.name.get(lang) if found is not None else lane


def _num(value: float | None, lang: Language, digits: int = 1) -> str:
    return "–" if value is None else format_number(value, lang, digits)


def _rw(key: str, lang: Language, **fields: str) -> str:
    return word(f"run_set.{key}", lang, **fields)


def _titled(title: str, runs: RunSetInfo, lang: Language) -> Table:
    """A table titled with its run set, at least as wide as the title (so it never wraps)."""
    text = f"{title} · {runs.label(lang)}"
    return Table(title=text, title_justify="left", min_width=len(text))


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


# --- analyse ---------------------------------------------------------------------------------


def _design_table(m: DesignMetrics, version: Version, lang: Language) -> Table:
    table = Table(title=f"{version.key} — {version.label}", title_justify="left")
    table.add_column(_t("metric", lang))
    table.add_column(_t("value", lang), justify="right")
    table.add_column(_t("unit", lang))
    for metric in DESIGN_METRICS:
        digits = 0 if metric.key in _WHOLE else 1
        unit = word(_UNIT[metric.unit], lang)
        table.add_row(metric.label(lang), _num(m[metric.key], lang, digits), unit)
    return table


_WHOLE = frozenset(
    {"work_steps", "steps_value_adding", "steps_necessary", "steps_waste", "likely_path_steps",
     "likely_path_handoffs", "duplicate_registrations", "waste_tags"}
)  # fmt: skip


def _detail_tables(m: DesignMetrics, library: Library, lang: Language) -> list[Table]:
    work = Table(title=_t("workload", lang), title_justify="left")
    work.add_column(_t("org", lang))
    work.add_column(_t("touch", lang), justify="right")
    for lane, minutes in sorted(m.workload.items(), key=lambda kv: -kv[1]):
        work.add_row(_lane(library, lane, lang), _num(minutes, lang))
    dups = Table(title=_t("duplicates", lang), title_justify="left")
    dups.add_column(_t("field", lang))
    dups.add_column(_t("steps", lang))
    dups.add_column(_t("org", lang))
    for dup in m.duplicates:
        orgs = ", ".join(_lane(library, lane, lang) for lane in dup.lanes)
        dups.add_row(dup.field, ", ".join(dup.steps), orgs)
    wastes = Table(title=_t("wastes", lang), title_justify="left")
    wastes.add_column(_t("waste", lang))
    wastes.add_column(_t("steps", lang), justify="right")
    for waste, count in m.wastes.items():
        wastes.add_row(term(Waste(waste), lang), str(count))
    return [work, dups, wastes] if m.duplicates else [work, wastes]


def _observed_tables(
    obs: ObservedMetrics, runs: RunSetInfo, library: Library, lang: Language
) -> list[Table]:
    heading = run_text("heading", lang, kind_of(runs))
    summary = _titled(heading, runs, lang)
    for key in ("metric", "cases", "mean", "median"):
        summary.add_column(_t(key, lang), justify="left" if key == "metric" else "right")
    summary.add_column("p90", justify="right")
    labels = {m.key: m.label(lang) for m in CASE_METRICS}
    for row in obs.summary.iter_rows(named=True):
        summary.add_row(labels[row["metric"]], str(row["cases"]), _num(row["mean"], lang),
                        _num(row["median"], lang), _num(row["p90"], lang))  # fmt: skip
    pairs = _titled(_t("pairs", lang), runs, lang)
    for key in ("pair", "handoffs", "mean", "median"):
        pairs.add_column(_t(key, lang), justify="left" if key == "pair" else "right")
    pairs.add_column("p90", justify="right")
    for row in obs.handoff_waits.iter_rows(named=True):
        name = f"{_lane(library, row['from_lane'], lang)} → {_lane(library, row['to_lane'], lang)}"
        pairs.add_row(name, str(row["handoffs"]), _num(row["mean_days"], lang),
                      _num(row["median_days"], lang), _num(row["p90_days"], lang))  # fmt: skip
    variants = _titled(_t("variants", lang), runs, lang)
    for key in ("variant", "cases", "share"):
        variants.add_column(_t(key, lang), justify="left" if key == "variant" else "right")
    for row in obs.variants.head(5).iter_rows(named=True):
        share = _num(100 * row["share"], lang) + " %"
        variants.add_row(row["variant"], str(row["cases"]), share)
    return [summary, pairs, variants]


_Outcomes = list[tuple[OutcomeMetric, list[OutcomeFigure]]]


def _outcome_cell(figure: OutcomeFigure, lang: Language) -> str:
    share = "–" if figure.reach is None else f"{_num(100 * figure.reach, lang)} %"
    if figure.measure == "share":
        return share
    days = f"{_num(figure.value, lang)} {word('unit.wd_short', lang)}"
    return word("outcome.reached", lang, value=days, share=share)


def _outcome_table(version: Version, rows: _Outcomes, lang: Language) -> Table:
    """One row per outcome metric: designed first, then each source of the event log."""
    table = Table(title=word("outcome.title", lang, version=version.key), title_justify="left")
    table.add_column(word("outcome.metric", lang))
    for figure in rows[0][1]:
        if figure.source == DESIGNED:
            head = word("term.designed", lang)
        else:
            source = word(f"mode.{figure.source}", lang)
            head = word("outcome.logged", lang, source=source, cases=figure.cases)
        table.add_column(head[:1].upper() + head[1:], justify="right")
    for metric, figures in rows:
        cells = {f.source: _outcome_cell(f, lang) for f in figures}
        name = Text(metric.name.get(lang))  # a name from the file prints literally
        table.add_row(name, *(cells.get(f.source, "–") for f in rows[0][1]))
    table.caption, table.caption_justify = Text(word("outcome.note", lang)), "left"
    return table


def _accuracy(events: pl.DataFrame, obs: ObservedMetrics | None) -> Accuracy | None:
    """The observed %C&A and activity ratio of a run set's log (None without runs)."""
    if obs is None:
        return None
    return observed_accuracy(events, obs.cases, minutes_per_day=DEFAULT_CALENDAR.minutes_per_day)


def _accuracy_table(found: Accuracy, runs: RunSetInfo, lang: Language) -> Table:
    """Observed %C&A per step, with the rolled %C&A and activity ratio as its caption."""
    table = _titled(_t("accuracy", lang), runs, lang)
    for key in ("steps", "completions", "went_back", "ca"):
        table.add_column(_t(key, lang), justify="left" if key == "steps" else "right")
    for row in found.steps.iter_rows(named=True):
        table.add_row(row["step"], str(row["completions"]), str(row["went_back"]),
                      _num(row["ca_percent"], lang))  # fmt: skip
    lines = [
        _t("rolled", lang).format(share=_num(row["rolled_ca_percent"], lang),
                                  first=row["first_pass"], cases=row["cases"],
                                  ratio=_num(row["activity_ratio_median"], lang))
        for row in found.versions.iter_rows(named=True)
    ]  # fmt: skip
    table.caption, table.caption_justify = "\n".join(lines), "left"
    return table


def _conformance_line(obs: ObservedMetrics, runs: RunSetInfo, lang: Language) -> str | None:
    c = obs.conformance
    if c is None or c.share is None:
        return None
    share = _num(100 * c.share, lang)
    line = _t("conformance", lang).format(conforming=c.conforming, runs=c.runs, share=share)
    return f"{runs.label(lang)} — {line}"


def analyse(
    ref: Annotated[
        str | None,
        typer.Argument(
            help="PROCESS or PROCESS@vN (newest published if no N); leave it out "
            "with --runs imported:NAME."
        ),
    ] = None,
    observed: ObservedOption = False,
    runs: RunsOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Expected LEAN metrics of one version (and, with --observed or --runs, of one run set)."""
    language = chosen(lang)
    if ref is None:
        _analyse_import(runs, as_json, language)
        return
    with friendly_errors():
        library = _library()
        process, number = parse_ref(ref)
        version = library.get(process, number)
        metrics = design_metrics(version, lanes=library.lanes)
        sets = chosen_run_sets(runs, observed=observed, versions=1)
        obs, logged, info = None, [], None
        imported, extra, accuracy = None, {}, None
        if sets:
            [(info, events)] = load_run_sets([version], sets)
            obs = observed_metrics(events, version=version) if events.height else None
            logged = logged_outcomes(events, version) if events.height else []
            imported = _import_of(sets[0])
            extra = _import_figures(imported, events, obs) if imported else {}
            obs = _touch_unknown(obs, imported)
            accuracy = _accuracy(events, obs)
        outcomes = outcome_table(version, logged)
    if as_json:
        _print_json({"design": metrics.as_dict(), "observed": obs.as_dict() if obs else None,
                     "accuracy": accuracy.as_dict() if accuracy else None,
                     "runs": info.as_dict() if info else None,
                     "outcomes": [f.as_dict() for _, fs in outcomes for f in fs],
                     **extra})  # fmt: skip
        return
    console.print(_design_table(metrics, version, language))
    for table in _detail_tables(metrics, library, language):
        console.print(table)
    if outcomes:
        console.print(_outcome_table(version, outcomes, language))
    if info is not None and obs is None:
        message = _rw("no_runs", language, version=version.key, runs=info.name)
        console.print(Text(message, style="yellow"))
    if info is not None and obs is not None:
        for table in _observed_tables(obs, info, library, language):
            console.print(table)
        if accuracy is not None:
            console.print(_accuracy_table(accuracy, info, language))
        line = _conformance_line(obs, info, language)
        if line:
            console.print(Text(line))
    if imported is not None:
        _print_import_note(imported, language)


# --- analyse an import ----------------------------------------------------------------------


def _import_of(runs: RunSet) -> ImportedLog | None:
    """The import row of ``imported:NAME``; None for another set, or an import without a row."""
    if runs.mode is not Mode.IMPORTED:
        return None
    engine = Workspace.current().open_store()
    try:
        return get_import(engine, runs.key)
    except NotFoundError:
        return None
    finally:
        engine.dispose()


def _touch_time(imported: ImportedLog) -> str:
    """``unknown`` (completions only), ``partly`` or ``measured``: whether touch time is known."""
    if imported.start_share <= 0:
        return "unknown"
    return "measured" if imported.start_share >= 1 else "partly"


def _handoff_pairs(events: pl.DataFrame, obs: ObservedMetrics | None) -> list[dict[str, Any]]:
    """Handoffs per ordered organisation pair (every handoff event), with the waits after them
    (working days to the start of the next step, median and p90) where measured."""
    pairs = (
        events.filter(pl.col("kind") == EventKind.HANDOFF.value)
        .group_by("from_lane", "to_lane")
        .agg(pl.len().alias("handoffs"))
    )
    if obs is not None and obs.handoff_waits.height:
        waits = obs.handoff_waits.select("from_lane", "to_lane", "median_days", "p90_days")
        pairs = pairs.join(waits, on=["from_lane", "to_lane"], how="left")
    else:
        pairs = pairs.with_columns(median_days=None, p90_days=None)
    ordered = pairs.sort(["handoffs", "from_lane", "to_lane"], descending=[True, False, False])
    return ordered.to_dicts()


def _case_bounds(events: pl.DataFrame, obs: ObservedMetrics | None) -> list[dict[str, Any]]:
    """Each case's first and last event (its bounds), lead time in working days and in hours,
    its handoffs and rework."""
    at = pl.col("at")
    bounds = events.group_by("case_id").agg(at.min().alias("start"), at.max().alias("end"))
    if obs is not None:
        figures = obs.cases.select("case_id", "lead_days", "handoffs", "rework")
        bounds = bounds.join(figures, on="case_id", how="left")
    hours = (pl.col("end") - pl.col("start")).dt.total_microseconds() / 3_600_000_000
    return (
        bounds.with_columns(hours.alias("lead_hours"))
        .with_columns(pl.col("start", "end").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f"))
        .sort("case_id")
        .to_dicts()
    )


def _touch_unknown(
    obs: ObservedMetrics | None, imported: ImportedLog | None
) -> ObservedMetrics | None:
    """``obs`` with touch time left empty (null, never 0) when the import's log has no start
    events: the summary's touch row and the workload per organisation."""
    if obs is None or imported is None or _touch_time(imported) != "unknown":
        return obs
    touch = pl.col("metric") == "touch_minutes"
    summary = obs.summary.with_columns(
        pl.when(touch).then(None).otherwise(pl.col(c)).alias(c) for c in ("mean", "median", "p90")
    )
    return dataclasses.replace(obs, summary=summary, workload=obs.workload.clear())


def _import_figures(
    imported: ImportedLog, events: pl.DataFrame, obs: ObservedMetrics | None
) -> dict[str, Any]:
    """What the JSON of an imported set adds: the import, touch time known or not, the handoffs
    per ordered organisation pair and each case's bounds."""
    return {
        "import": imported.model_dump(mode="json"),
        "touch_time": _touch_time(imported),
        "handoff_pairs": _handoff_pairs(events, obs),
        "case_bounds": _case_bounds(events, obs),
    }


def _print_import_note(imported: ImportedLog, lang: Language) -> None:
    line = f"imported:{imported.name} — {imported.source} ({imported.process}@v{imported.version})"
    console.print(Text(line))
    touch = _touch_time(imported)
    if touch != "measured":
        console.print(Text(word(f"import.touch_{touch}", lang), style="yellow"))


def _library_version(library: Library, imported: ImportedLog) -> Version | None:
    """The library's version an import belongs to; None for the log as logged (version 0)."""
    if imported.version < 1:
        return None
    try:
        return library.get(imported.process, imported.version)
    except NotFoundError:
        return None


def _analyse_import(runs: list[str] | None, as_json: bool, lang: Language) -> None:
    """``analyse --runs imported:NAME`` without PROCESS: the import's own process and version."""
    with friendly_errors():
        sets = chosen_run_sets(runs, observed=False, versions=1)
        if not sets or sets[0].mode is not Mode.IMPORTED:
            fail("give PROCESS or PROCESS@vN, or --runs imported:NAME for an imported log")
        engine = Workspace.current().open_store()
        try:
            imported = get_import(engine, sets[0].key)
            info, events = run_set_log(engine, sets[0], process=imported.process,
                                       version=imported.version)  # fmt: skip
        finally:
            engine.dispose()
        library = _library()
        version = _library_version(library, imported)
        obs = observed_metrics(events, version=version) if events.height else None
        figures = _import_figures(imported, events, obs)
        obs = _touch_unknown(obs, imported)
        accuracy = _accuracy(events, obs)
    if as_json:
        _print_json({"design": None, "observed": obs.as_dict() if obs else None,
                     "accuracy": accuracy.as_dict() if accuracy else None,
                     "runs": info.as_dict(), **figures})  # fmt: skip
        return
    if obs is None:
        console.print(Text(_rw("no_runs", lang, version=info.version_key, runs=info.name)))
        return
    for table in _observed_tables(obs, info, library, lang):
        console.print(table)
    if accuracy is not None:
        console.print(_accuracy_table(accuracy, info, lang))
    line = _conformance_line(obs, info, lang)
    if line:
        console.print(Text(line))
    _print_import_note(imported, lang)


# --- compare ---------------------------------------------------------------------------------


def _version_number(text: str) -> int:
    digits = text.strip().lower().removeprefix("v")
    if not digits.isdigit() or int(digits) < 1:
        fail(f"'{text}' is not a version number; write e.g. 1 or v1")
    return int(digits)


def _run_mark(runs: tuple[RunSetInfo, RunSetInfo] | None, lang: Language) -> str:
    """After a run-based row's name: (simulert), or (registrert → simulert) for two kinds."""
    if runs is None:
        return ""
    before, after = (info.kind(lang) for info in runs)
    return f" ({before})" if before == after else f" ({before} → {after})"


def _comparison_table(
    c: Comparison, runs: tuple[RunSetInfo, RunSetInfo] | None, lang: Language
) -> Table:
    table = Table(title=f"{c.process}: v{c.before} → v{c.after}", title_justify="left")
    if runs is not None:
        table.caption, table.caption_justify = Text(runs_line(*runs, lang)), "left"
    table.add_column(_t("metric", lang))
    table.add_column(f"v{c.before}", justify="right")
    table.add_column(f"v{c.after}", justify="right")
    table.add_column(_t("change", lang), justify="right")
    table.add_column("%", justify="right")
    table.add_column(_t("unit", lang))
    observed = any(row.source == "observed" for row in c.rows)
    if observed:
        table.add_column(_t("ci", lang), justify="right")
    for row in c.rows:
        digits = 0 if row.key in _WHOLE else 1
        cells = [
            row.label(lang) + (_run_mark(runs, lang) if row.source == "observed" else ""),
            _num(row.before, lang, digits), _num(row.after, lang, digits),
            _num(row.change, lang, digits), _num(row.pct_change, lang, 0),
            word(_UNIT[row.unit], lang),
        ]  # fmt: skip
        if observed:
            ci = "" if row.ci_low is None else f"{_num(row.ci_low, lang, 2)} … "
            cells.append(ci + ("" if row.ci_high is None else _num(row.ci_high, lang, 2)))
        table.add_row(*cells)
    return table


_Logs = tuple[pl.DataFrame, pl.DataFrame] | tuple[None, None]


def _run_logs(
    old: Version, new: Version, sets: list[RunSet] | None
) -> tuple[tuple[RunSetInfo, RunSetInfo] | None, _Logs, tuple[RunSetInfo, Version] | None]:
    """Both versions' run sets and logs; None and the empty side when one holds no runs."""
    if not sets:
        return None, (None, None), None
    (b_info, b_log), (a_info, a_log) = load_run_sets([old, new], sets)
    for info, log, version in ((b_info, b_log, old), (a_info, a_log, new)):
        if log.is_empty():
            return None, (None, None), (info, version)
    return (b_info, a_info), (b_log, a_log), None


def compare_command(
    process: Annotated[str, typer.Argument(help="The process id, e.g. private_lease.")],
    before: Annotated[str, typer.Argument(help="The version before, e.g. 1 or v1.")],
    after: Annotated[str, typer.Argument(help="The version after, e.g. 2 or v2.")],
    observed: ObservedOption = False,
    runs: RunsOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Two versions side by side: design metrics, run-based metrics, and what changed."""
    language = chosen(lang)
    with friendly_errors():
        library = _library()
        old = library.get(process, _version_number(before))
        new = library.get(process, _version_number(after))
        sets = chosen_run_sets(runs, observed=observed, versions=2)
        infos, logs, empty = _run_logs(old, new, sets)
        result = compare(old, new, before_events=logs[0], after_events=logs[1], lanes=library.lanes)
    summary = comparison_summary(result, infos, language)
    if as_json:
        sides = {"before": infos[0].as_dict(), "after": infos[1].as_dict()} if infos else None
        _print_json({**result.as_dict(), "runs": sides, "summary": summary})
        return
    console.print(_comparison_table(result, infos, language))
    if empty is not None:
        message = _rw("no_comparison", language, runs=empty[0].name, version=empty[1].key)
        console.print(Text(message, style="yellow"))
    for sentence in summary:
        console.print(Text(f"• {sentence}"))


def register(app: typer.Typer) -> None:
    """Add the analysis commands to the root app."""
    app.command("analyse", help="Expected (and observed) LEAN metrics of one version.")(analyse)
    app.command("compare", help="Compare two versions: metrics before/after and what changed.")(
        compare_command
    )
