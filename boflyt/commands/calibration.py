"""``boflyt calibrate``: a simulation scenario fitted from the first part of a measured log.

It reads the run set's events from the store, fits a scenario for the version with
:func:`boflyt.analysis.calibration.calibrate` from the cases started before the cut (``--train``
share or ``--until`` date), checks the result loads as a scenario of that version, and writes
it (by default to the process's ``scenarios/`` folder, so ``boflyt simulate P@vN --scenario
NAME`` runs it). Branch probabilities belong in the version: they are printed, and written as
a comment at the top of the file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
import yaml
from rich.table import Table

from boflyt.analysis.calibration import Calibration, calibrate, cut_of
from boflyt.commands.labels import lane_text
from boflyt.commands.language import LangOption, Words, chosen
from boflyt.console import console, fail, friendly_errors
from boflyt.engine.definition.load import Library, load_library, parse_ref
from boflyt.engine.definition.scenario import parse_scenario
from boflyt.engine.store.eventlog import event_frame
from boflyt.models.definition import Version
from boflyt.models.runset import RunSet
from boflyt.models.words import Language, format_number
from boflyt.workspace import Workspace

__all__ = ["register"]


_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def scenario_name(text: str) -> str:
    """``text`` when it can name a scenario (an identifier); else a usage error saying why."""
    if not _NAME.fullmatch(text):
        raise typer.BadParameter(
            f"'{text}' is not a scenario name: lower-case letters, digits and _, "
            "starting with a letter, at most 64"
        )
    return text


def calibrate_command(
    runs: Annotated[str, typer.Argument(help="The measured run set, e.g. imported:receipt.")],
    process: Annotated[
        str,
        typer.Option("--process", "-p", help="The version to calibrate for, PROCESS@vN."),
    ],
    train: Annotated[
        float | None,
        typer.Option("--train", help="Share of the cases, in start order, to fit on (0-1)."),
    ] = None,
    until: Annotated[
        dt.datetime | None,
        typer.Option("--until", help="Fit on the cases started before this date (UTC)."),
    ] = None,
    since: Annotated[
        dt.datetime | None,
        typer.Option(
            "--since",
            help="Fit only on cases started from this date (UTC): a recent window, when the "
            "process has changed.",
        ),
    ] = None,
    name: Annotated[
        str,
        typer.Option("--name", parser=scenario_name, help="The scenario's name (and file name)."),
    ] = "calibrated",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write it (default: the process's scenarios/ folder)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    lang: LangOption = None,
) -> None:
    """Fit a simulation scenario (arrivals, staff, durations, branches) from an imported log.

    The cases started before the cut (--train 0.7 by default, or --until DATE) are fitted;
    the rest are left for judging the simulation (bench/calibration.py).
    """
    language = chosen(lang)
    words = Words("calibrate", language)
    with friendly_errors():
        workspace = Workspace.current()
        library = load_library(workspace.processes_dir)
        version = library.get(*parse_ref(process))
        run_set = RunSet.parse(runs)
        events = _events(workspace, run_set)
        if events.is_empty():
            fail(words["no_events"].format(runs=run_set))
        window = _Window(train, until, _utc(since))
        try:
            fit = _fit(events, version, library, run_set, window, name, words)
        except ValueError as exc:
            fail(str(exc))
        path = output or workspace.processes_dir / version.process / "scenarios" / f"{name}.yaml"
        if path.exists() and not force:
            fail(words["exists"].format(path=path))
        text = scenario_text(fit, version, run_set, words, since=window.since)
        parse_scenario(text, file=path.name, version=version, lanes=library.lanes)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _print(fit, version, library, run_set, words, language)
    console.print(words["wrote"].format(path=path))
    if output is None:
        console.print(words["next"].format(version=version.key, name=name))


@dataclass(frozen=True)
class _Window:
    """Which cases to fit on: a training share or a cut date, and where a recent window starts."""

    train: float | None
    until: dt.datetime | None
    since: dt.datetime | None


def _utc(at: dt.datetime | None) -> dt.datetime | None:
    """A date as naive UTC, as the store keeps times (a naive one is taken as UTC)."""
    return at.astimezone(dt.UTC).replace(tzinfo=None) if at and at.tzinfo else at


def _events(workspace: Workspace, run_set: RunSet) -> pl.DataFrame:
    engine = workspace.open_store()
    try:
        return event_frame(engine, runs=run_set)
    finally:
        engine.dispose()


def _fit(
    events: pl.DataFrame,
    version: Version,
    library: Library,
    run_set: RunSet,
    window: _Window,
    name: str,
    words: Words,
) -> Calibration:
    """The calibration at the cut asked for (a 0.7 share when neither is given)."""
    train, until = window.train, _utc(window.until)
    cut = cut_of(events, train=0.7 if train is None and until is None else train, until=until)
    outside = frozenset(lane.id for lane in library.lanes.lanes if lane.outside)
    fit = calibrate(events, version, cut=cut, name=name, outside=outside, since=window.since)
    described = words["description"].format(
        runs=run_set, cases=fit.training_cases, window=_window_text(fit, window.since, words)
    )
    return replace(fit, scenario=fit.scenario.model_copy(update={"description": described}))


def _window_text(fit: Calibration, since: dt.datetime | None, words: Words) -> str:
    """The training window in words: before the cut, or from ``since`` to the cut."""
    cut = f"{fit.cut:%Y-%m-%d %H:%M}"
    if since is None:
        return words["window_before"].format(cut=cut)
    return words["window_between"].format(since=f"{since:%Y-%m-%d %H:%M}", cut=cut)


def scenario_text(
    fit: Calibration,
    version: Version,
    run_set: RunSet,
    words: Words,
    *,
    since: dt.datetime | None = None,
) -> str:
    """The scenario as YAML, headed by a comment with the fitted branch probabilities."""
    header = words["header"].format(
        runs=run_set, version=version.key, window=_window_text(fit, since, words),
        cases=fit.training_cases,
    )  # fmt: skip
    lines = [f"# {header}"]
    for decision, shares in fit.branches.items():
        parts = ", ".join(f"{target} {p:g}" for target, p in shares.items())
        lines.append(f"#   {decision}: {parts}")
    data = fit.scenario.model_dump(mode="json", exclude_none=True)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(lines) + "\n" + body


def _print(
    fit: Calibration,
    version: Version,
    library: Library,
    run_set: RunSet,
    words: Words,
    lang: Language,
) -> None:
    s = fit.scenario
    table = Table(
        title=words["title"].format(runs=run_set, version=version.key), title_justify="left"
    )
    table.add_column(words["figure"])
    table.add_column(words["value"], justify="right")
    table.add_row(words["cut"], f"{fit.cut:%Y-%m-%d %H:%M}")
    table.add_row(words["training"], format_number(fit.training_cases, lang, 0))
    table.add_row(words["held_out"], format_number(fit.held_out_cases, lang, 0))
    table.add_row(words["arrivals"], format_number(s.arrivals_per_week, lang))
    table.add_row(words["working_days"], ", ".join(s.working_days))
    table.add_row(words["hours"], format_number(s.hours_per_day, lang))
    for lane, capacity in s.capacity.items():
        people = format_number(fit.people[lane], lang)
        detail = (
            words["staff_detail"].format(capacity=capacity, people=people, busy=fit.busy[lane])
            if lane in fit.busy
            else words["staff_people"].format(capacity=capacity, people=people)
        )
        table.add_row(words["staff"].format(lane=lane_text(lane, library.lanes, lang)), detail)
    known = sum(fit.touch_known.values())
    table.add_row(words["touch"], f"{known} / {len(fit.touch_known)}")
    console.print(table)
    if fit.branches:
        branches = Table(title=words["branches"], title_justify="left")
        for column in ("decision", "target", "in_version", "fitted"):
            branches.add_column(
                words[column], justify="right" if column in {"in_version", "fitted"} else "left"
            )
        for decision, shares in fit.branches.items():
            given = {t.target: t.p for t in version.transitions if t.source == decision}
            for target, p in shares.items():
                branches.add_row(decision, target, format_number(given.get(target, 0.0), lang, 3),
                                 format_number(p, lang, 3))  # fmt: skip
        console.print(branches)
    if fit.notes:
        console.print(f"[bold]{words['notes']}[/bold]")
        for note in fit.notes:
            console.print(f"- {note.text(lang)}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``calibrate``."""
    app.command("calibrate")(calibrate_command)
