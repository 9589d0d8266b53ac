"""CLI commands for pictures: ``draw`` (swimlane, before/after, timeline, overlay) and ``report``.

A thin shell over :mod:`boflyt.visualize`: load the versions, optionally one run set's events per
version (``--observed`` = ``live``, or ``--runs live|simulated:N|imported:NAME``), call one
extract → render pipeline and write the file. The renderer comes from ``--renderer`` or the
``BOFLYT_RENDERER`` setting (``auto``: graphviz-pure from the virtualenv first, then ``dot``).
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.text import Text

from boflyt.analysis.observed import observed_metrics
from boflyt.commands.language import LangOption, chosen
from boflyt.commands.runs import RunsOption, chosen_run_sets, load_run_sets
from boflyt.console import console, fail, friendly_errors
from boflyt.engine.definition.load import load_lanes, load_version, parse_ref
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import NotFoundError
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.vocabulary import VersionStatus
from boflyt.models.words import ENGLISH, Language, format_number, word
from boflyt.settings import get_settings
from boflyt.visualize.extraction import extract_comparison, extract_swimlane, overlay_swimlane
from boflyt.visualize.measured_timeline import measured_timeline
from boflyt.visualize.render import Renderer, find_renderer, format_of
from boflyt.visualize.report import build_report
from boflyt.visualize.side_by_side import render_comparison
from boflyt.visualize.swimlane import render_swimlane
from boflyt.visualize.timeline import render_timelines
from boflyt.visualize.value_stream import MIN_GROUP, Timeline, extract_timeline
from boflyt.workspace import Workspace

__all__ = ["register"]


class RendererName(StrEnum):
    """Which Graphviz to use: the first found, the graphviz-pure wheel, or the system dot."""

    AUTO = "auto"
    PURE = "pure"
    DOT = "dot"


RendererOption = Annotated[
    RendererName | None,
    typer.Option(
        "--renderer",
        help="Graphviz renderer: auto (graphviz-pure wheel first, then system dot), pure or dot. "
        "Default: the BOFLYT_RENDERER setting (auto).",
    ),
]
_VERSION = re.compile(r"^(?:([a-z][a-z0-9_]*)@)?[vV]?([1-9][0-9]*)$")


def _renderer(name: RendererName | None) -> Renderer:
    return find_renderer(name.value if name is not None else get_settings().renderer)


def _lanes() -> LaneCatalog:
    return load_lanes(Workspace.current().processes_dir / "lanes.yaml")


def _load(process: str, number: int | None, lanes: LaneCatalog) -> Version:
    """One version file; ``None`` = the newest published one (other files are not read)."""
    folder = Workspace.current().processes_dir / process
    files = sorted(
        folder.glob("v*.yaml"), key=lambda p: int(p.stem[1:]) if p.stem[1:].isdigit() else 0
    )
    if not files:
        raise NotFoundError(f"unknown process '{process}' (no {folder}/v*.yaml)")
    if number is not None:
        path = folder / f"v{number}.yaml"
        if not path.is_file():
            listed = ", ".join(p.stem for p in files)
            raise NotFoundError(f"{process} has no version {number}; versions: {listed}")
        return load_version(path, lanes=lanes)
    for path in reversed(files):
        version = load_version(path, lanes=lanes)
        if version.status is VersionStatus.PUBLISHED:
            return version
    raise NotFoundError(f"{process} has no published version")


def _other(process: str, text: str) -> tuple[str, int]:
    match = _VERSION.match(text.strip())
    if match is None:
        raise NotFoundError(f"--compare/--before/--after: '{text}' is not a version; write v1 or 1")
    return match.group(1) or process, int(match.group(2))


def _logs(versions: list[Version], sets: list[RunSet]) -> list[tuple[RunSetInfo, pl.DataFrame]]:
    """Each version's run set and its log; an error when a set holds no runs of its version."""
    found = load_run_sets(versions, sets)
    for (info, frame), version in zip(found, versions, strict=True):
        if frame.is_empty():
            raise NotFoundError(
                f"no runs of {version.key} in {info.runs.shown} ({info.label(ENGLISH)}); "
                "simulate or record cases first, or see boflyt runs list"
            )
    return found


def _measured(
    versions: list[Version], runs: list[RunSet], lanes: LaneCatalog, lang: Language
) -> list[Timeline]:
    """Each version's measured value stream in its run set (medians per step); an error when a
    set has fewer than :data:`~boflyt.visualize.value_stream.MIN_GROUP` finished cases of it."""
    lines = []
    for (info, frame), version in zip(_logs(versions, runs), versions, strict=True):
        title = f"v{version.version}: {version.label} · {info.label(lang)}"
        line = measured_timeline(version, frame, lanes, lang=lang, title=title)
        if line is None:
            raise NotFoundError(
                f"fewer than {MIN_GROUP} finished cases of {version.key} in {info.runs.shown}: "
                "a measured timeline is not drawn for so few; simulate or record more cases"
            )
        lines.append(line)
    return lines


def _draw(
    ref: str,
    output: Path,
    compare: str | None,
    timeline: bool,
    runs: list[RunSet] | None,
    lang: Language,
    renderer: RendererName | None,
) -> str:
    fmt = format_of(output)
    lanes = _lanes()
    process, number = parse_ref(ref)
    version = _load(process, number, lanes)
    other = _load(*_other(process, compare), lanes) if compare else None
    if timeline:
        versions = [v for v in (other, version) if v is not None]
        lines = (
            [extract_timeline(v, lanes, lang=lang) for v in versions]
            if runs is None
            else _measured(versions, runs, lanes, lang)
        )
        output.write_bytes(render_timelines(lines, fmt))
        return "matplotlib"
    chosen = _renderer(renderer)
    if other is not None:
        diagram = extract_comparison(other, version, lanes, lang=lang)
        output.write_bytes(render_comparison(diagram, fmt, renderer=chosen))
    elif runs is not None:
        [(info, frame)] = _logs([version], runs)
        observed = observed_metrics(frame, version=version)
        diagram = overlay_swimlane(version, lanes, observed, info, lang)
        output.write_bytes(render_swimlane(diagram, fmt, renderer=chosen))
    else:
        diagram = extract_swimlane(version, lanes, lang=lang)
        output.write_bytes(render_swimlane(diagram, fmt, renderer=chosen))
    return f"{chosen.name} ({chosen.path})"


def draw(
    ref: Annotated[str, typer.Argument(help="PROCESS or PROCESS@vN (default: newest published).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write; .svg or .png decides the format.")
    ],
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare",
            "-c",
            help="Draw against this earlier version (e.g. v1): "
            "new steps green, changed blue, removed grey, deltas in the header.",
        ),
    ] = None,
    timeline: Annotated[
        bool,
        typer.Option(
            "--timeline",
            help="Draw the value-stream ladder instead of the swimlane "
            "(with --compare: both versions on one shared time scale; with --runs or "
            "--observed: measured, the median wait and touch time per step of the run set).",
        ),
    ] = False,
    observed: Annotated[
        bool,
        typer.Option(
            "--observed",
            help="Colour steps and handoffs by the waiting times of one run set of this version "
            "(--runs; default: live, the registered cases).",
        ),
    ] = False,
    runs: RunsOption = None,
    lang: LangOption = None,
    renderer: RendererOption = None,
) -> None:
    """Draw a process version as a swimlane, a before/after view or a value-stream timeline."""
    with friendly_errors():
        pair = 2 if compare and timeline else 1  # a before/after timeline: a run set each
        sets = chosen_run_sets(runs, observed=observed, versions=pair)
        output.parent.mkdir(parents=True, exist_ok=True)
        used = _draw(ref, output, compare, timeline, sets, chosen(lang), renderer)
    size = format_number(output.stat().st_size, chosen(lang), 0)
    wrote = word("draw.wrote", chosen(lang), path=output, size=size, renderer=used)
    console.print(Text(wrote), soft_wrap=True)


def report(
    process: Annotated[str, typer.Argument(help="Process id, e.g. private_lease.")],
    before: Annotated[str, typer.Option("--before", "-b", help="The as-is version, e.g. v1.")],
    after: Annotated[str, typer.Option("--after", "-a", help="The redesigned version, e.g. v2.")],
    observed: Annotated[
        bool,
        typer.Option(
            "--observed",
            help="Add run-based metrics (with 95 % CIs), lead-time distributions and the "
            "waiting-time overlay from one run set per version (--runs; default: live).",
        ),
    ] = False,
    runs: RunsOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="HTML file to write (default: <reports_dir>/<process>.html)."
        ),
    ] = None,
    lang: LangOption = None,
    renderer: RendererOption = None,
) -> None:
    """Write one self-contained HTML before/after report for a facilitator's workshop."""
    path = output or Workspace.current().reports_dir / f"{process}.html"
    if path.suffix.lower() not in (".html", ".htm"):
        fail(f"{path}: the report is HTML; use a .html file name")
    with friendly_errors():
        lanes = _lanes()
        v_before = _load(*_other(process, before), lanes)
        v_after = _load(*_other(process, after), lanes)
        sets = chosen_run_sets(runs, observed=observed, versions=2)
        logs = _logs([v_before, v_after], sets) if sets else []
        entry = build_report(
            v_before,
            v_after,
            path,
            lanes=lanes,
            before_events=logs[0][1] if logs else None,
            after_events=logs[1][1] if logs else None,
            before_runs=logs[0][0] if logs else None,
            after_runs=logs[1][0] if logs else None,
            lang=chosen(lang),
            renderer=_renderer(renderer),
        )
    language = chosen(lang)
    figures = {
        f"{name}_{side}": format_number(value, language)
        for name, pair in (("handoffs", entry.handoffs), ("lead", entry.lead_days))
        for side, value in zip(("before", "after"), pair, strict=True)
    }
    wrote = word("draw.wrote_report", language, path=entry.path, **figures)
    console.print(Text(wrote), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``draw`` and ``report`` to the root app."""
    app.command("draw")(draw)
    app.command("report")(report)
