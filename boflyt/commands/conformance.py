"""``boflyt conformance``: how far the runs of one run set keep to a version.

A thin shell over :func:`boflyt.analysis.conformance.conformance`. Every run of the set is
checked, whatever version it ran on: a live set gives its runs of the version's process, a
simulation or an import all of its runs. Runs of another version are checked against the one
asked for all the same (a log against a redesign), and the output says so. It prints the runs,
the conforming share and the mean fitness, the deviations by step, and with ``--cases`` the first
deviation of each non-conforming run; ``--json`` gives the same figures as JSON.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import polars as pl
import typer
from rich.table import Table
from rich.text import Text

from boflyt.analysis.conformance import LOG_MOVE, Conformance, conformance
from boflyt.commands.language import LangOption, chosen
from boflyt.console import console, friendly_errors
from boflyt.engine.definition.load import load_library, parse_ref
from boflyt.engine.store.eventlog import event_frame
from boflyt.engine.store.queries import list_run_sets
from boflyt.models.definition import Version
from boflyt.models.errors import NotFoundError
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.vocabulary import Mode
from boflyt.models.words import Language, format_number, word
from boflyt.workspace import Workspace

__all__ = ["register"]


def _w(key: str, lang: Language, **fields: object) -> str:
    return word(f"conformance.{key}", lang, **fields)


def _load(runs: RunSet, version: Version) -> tuple[list[RunSetInfo], pl.DataFrame]:
    """The run set as stored (one entry per process version it holds) and its event log: a
    live set's runs of ``version``'s process, every run of a simulation or an import.

    Raises:
        NotFoundError, CommandError: no such simulation or import; an ambiguous prefix.
    """
    process = version.process if runs.mode is Mode.LIVE else None
    engine = Workspace.current().open_store()
    try:
        infos = list_run_sets(engine, runs=runs, process=process)
        if not infos and runs.mode is Mode.IMPORTED:
            raise NotFoundError(f"no imported run set {runs.shown}; see boflyt runs list")
        exact = infos[0].runs if infos else runs
        return infos, event_frame(engine, runs=exact, process=process)
    finally:
        engine.dispose()


def _label(runs: RunSet, infos: list[RunSetInfo], lang: Language) -> str:
    """The set's label with its cases over every version it holds."""
    if len(infos) == 1:
        return infos[0].label(lang)
    first = infos[0] if infos else RunSetInfo(runs, "", 0, 0)
    whole = RunSetInfo(first.runs, first.process, first.version, sum(i.cases for i in infos))
    return whole.label(lang)


def _own_versions(result: Conformance) -> pl.DataFrame:
    """process, version, runs: the versions the checked runs ran on."""
    if result.cases is None:
        return pl.DataFrame(schema={"process": pl.String, "version": pl.Int64, "runs": pl.UInt32})
    own = result.cases.group_by("process", "version").agg(pl.len().alias("runs"))
    return own.sort("process", "version")


def _elsewhere(result: Conformance) -> pl.DataFrame:
    """The rows of :func:`_own_versions` that are not the version checked against."""
    same = (pl.col("process") == result.process) & (pl.col("version") == result.version)
    return _own_versions(result).filter(~same)


def _shown(step: str | None, lang: Language) -> str:
    """A step as the tables show it: its id (as in variants and the JSON), the run's start."""
    if step is None:
        return "–"
    return _w("beginning", lang) if step == "" else step


def _step_table(result: Conformance, lang: Language) -> Table:
    table = Table(title=_w("by_step", lang), title_justify="left")
    table.add_column(_w("step", lang))
    for key in ("first", "log_moves", "model_moves"):
        table.add_column(_w(key, lang), justify="right")
    table.add_column(_w("predecessor", lang))
    assert result.steps is not None
    for row in result.steps.iter_rows(named=True):
        before = row["predecessor"]
        shown = "" if before is None else f"{_shown(before, lang)} ({row['predecessor_count']})"
        table.add_row(
            Text(row["step"]), str(row["first"]), str(row["log_moves"]),
            str(row["model_moves"]), Text(shown),
        )  # fmt: skip
    return table


def _case_table(result: Conformance, lang: Language) -> Table:
    table = Table(title=_w("cases", lang), title_justify="left")
    table.add_column(_w("case", lang), no_wrap=True)
    table.add_column(_w("position", lang), justify="right")
    table.add_column(_w("from_to", lang))
    table.add_column(_w("move", lang))
    table.add_column(_w("fitness", lang), justify="right")
    assert result.cases is not None
    for row in result.cases.filter(pl.col("move").is_not_null()).iter_rows(named=True):
        path = f"{_shown(row['from_step'], lang)} → {_shown(row['to_step'], lang)}"
        move = _w("move_log" if row["move"] == LOG_MOVE else "move_model", lang)
        fitness = format_number(row["fitness"], lang, 2)
        table.add_row(Text(row["case_id"]), str(row["position"]), Text(path), move, fitness)
    return table


def _summary(result: Conformance, lang: Language) -> str:
    share = format_number(100 * (result.share or 0.0), lang)
    fitness = format_number(result.mean_fitness or 0.0, lang, 3)
    return _w("summary", lang, runs=result.runs, conforming=result.conforming, share=share,
              fitness=fitness)  # fmt: skip


def _print(result: Conformance, version: Version, label: str, cases: bool, lang: Language) -> None:
    console.print(Text(_w("title", lang, runs=label, version=version.key), style="bold"))
    if result.runs == 0:
        console.print(Text(_w("no_runs", lang, runs=label), style="yellow"))
        return
    elsewhere = _elsewhere(result)
    if elsewhere.height:
        versions = ", ".join(f"{p}@v{v}" for p, v, _ in elsewhere.iter_rows())
        runs = int(elsewhere["runs"].sum())
        console.print(Text(_w("other_version", lang, runs=runs, versions=versions,
                              version=version.key), style="yellow"))  # fmt: skip
    console.print(Text(_summary(result, lang)))
    if result.conforming == result.runs:
        console.print(Text(_w("none", lang, version=version.key)))
        return
    console.print(_step_table(result, lang))
    if cases:
        console.print(_case_table(result, lang))
    console.print(Text(_w("note", lang)))


def _as_json(
    result: Conformance, version: Version, infos: list[RunSetInfo], runs: RunSet, cases: bool
) -> dict[str, Any]:
    data = result.as_dict()
    data["checked_against"] = version.key
    data["run_set"] = str(runs)
    data["stored"] = [info.as_dict() for info in infos]
    data["own_versions"] = _own_versions(result).to_dicts()
    data["other_version"] = _elsewhere(result).height > 0
    if cases and result.cases is not None:
        data["cases"] = result.cases.to_dicts()
    return data


def conformance_command(
    runs: Annotated[
        str,
        typer.Argument(
            metavar="RUNSET",
            help="live (registered cases of the version's process), simulated:N or imported:NAME.",
        ),
    ],
    ref: Annotated[
        str,
        typer.Argument(
            metavar="PROCESS@vN",
            help="The version to check against (newest published if no N); may be another "
            "version than the runs ran on.",
        ),
    ],
    cases: Annotated[
        bool, typer.Option("--cases", help="Also list the first deviation of each run.")
    ] = False,
    ends: Annotated[
        bool,
        typer.Option(
            "--ends/--no-ends",
            help="Hold finished runs to reaching an end step (the default); --no-ends for a log "
            "cut at a date or of one phase of a longer process.",
        ),
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the same figures as JSON instead of tables.")
    ] = False,
    lang: LangOption = None,
) -> None:
    """Check a run set against a version: fitness, first deviations, deviations by step."""
    language = chosen(lang)
    with friendly_errors():
        library = load_library(Workspace.current().processes_dir)
        process, number = parse_ref(ref)
        version = library.get(process, number)
        chosen_runs = RunSet.parse(runs)
        infos, events = _load(chosen_runs, version)
        result = conformance(events, version, every_run=True, ends=ends)
    if as_json:
        data = _as_json(result, version, infos, chosen_runs, cases)
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    _print(result, version, _label(chosen_runs, infos, language), cases, language)


def register(app: typer.Typer) -> None:
    """Add ``conformance``."""
    app.command("conformance")(conformance_command)
