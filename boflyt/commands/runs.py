"""``boflyt runs``: the run sets in the store — list them; delete simulated and imported ones.

Every case run belongs to one run set: ``live`` (registered by staff), ``simulated:N`` (one
simulation, N its run number) or ``imported:NAME`` (:mod:`boflyt.models.runset`). ``runs list``
shows each set per process version with its kind, scenario, seed, cases and when; ``runs delete``
removes simulated and imported sets with all their cases and events, after a confirmation (or at
once with ``--yes``). Live cases are never deleted this way.

:data:`RunsOption`, :func:`chosen_run_sets` and :func:`load_run_sets` give ``analyse``,
``compare``, ``draw`` and ``report`` their one ``--runs`` option.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
from typing import Annotated

import polars as pl
import typer
from rich.table import Table
from rich.text import Text

from boflyt.commands.language import LangOption, chosen
from boflyt.console import console, fail, friendly_errors
from boflyt.engine.store.eventlog import DeletedRuns, delete_run_sets, run_set_log
from boflyt.engine.store.queries import list_run_sets
from boflyt.models.definition import Version
from boflyt.models.errors import NotFoundError
from boflyt.models.runset import RunSet, RunSetInfo, SimulationOrigin
from boflyt.models.vocabulary import Mode
from boflyt.models.words import Language, count, format_number, word
from boflyt.workspace import Workspace

__all__ = ["RunsOption", "chosen_run_sets", "load_run_sets", "register", "runs_app"]

RunsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--runs",
        metavar="RUNSET",
        help="The run set the run-based figures stand on: live (registered cases; the default "
        "of --observed), simulated:N (one simulation, see boflyt runs list) or imported:NAME. "
        "With two versions, give it twice for a different set before and after.",
        show_default=False,
    ),
]
"""``--runs``: one run set per figure, never several pooled."""


runs_app = typer.Typer(
    name="runs",
    help="Run sets: live (registered), simulated:N (one simulation), imported:NAME. "
    "List them; delete simulated and imported ones.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``runs list`` and ``runs delete``."""
    app.add_typer(runs_app, name="runs")


def chosen_run_sets(
    names: list[str] | None, *, observed: bool, versions: int
) -> list[RunSet] | None:
    """The run set of each of ``versions`` versions: ``--runs`` as given (one for all, or one
    per version), else ``live`` with ``--observed``, else None (design figures only)."""
    if not names:
        return [RunSet.live()] * versions if observed else None
    if len(names) not in (1, versions):
        fail(f"--runs: give one run set, or one per version ({versions}); got {len(names)}")
    sets = [RunSet.parse(name) for name in names]
    if len(sets) < versions and sets[0].mode is Mode.SIMULATED:
        fail("--runs: a simulation is of one version; give --runs twice (before, then after)")
    return sets * versions if len(sets) < versions else sets


def load_run_sets(
    versions: Sequence[Version], sets: Sequence[RunSet]
) -> list[tuple[RunSetInfo, pl.DataFrame]]:
    """Each version's run set as stored and its event log (empty when it holds no runs).

    Raises:
        NotFoundError, CommandError: a simulation that is not there, or of another version.
    """
    engine = Workspace.current().open_store()
    try:
        return [
            run_set_log(engine, runs, process=v.process, version=v.version)
            for v, runs in zip(versions, sets, strict=True)
        ]
    finally:
        engine.dispose()


def _w(key: str, lang: Language) -> str:
    return word(f"runs.{key}", lang)


def _kind(info: RunSetInfo, lang: Language) -> str:
    demo = " (demo)" if info.origin == SimulationOrigin.DEMO else ""
    return info.kind(lang) + demo


def _table(sets: list[RunSetInfo], lang: Language) -> Table:
    table = Table(title=_w("title", lang), title_justify="left")
    for key in ("run_set", "version", "kind", "scenario", "seed", "cases", "when"):
        table.add_column(
            _w(key, lang),
            justify="right" if key in ("seed", "cases") else "left",
            no_wrap=key in ("run_set", "version", "kind"),
        )
    for info in sets:
        seed = "–" if info.seed is None else str(info.seed)
        when = info.when.strftime("%Y-%m-%d %H:%M") if info.when else "–"
        table.add_row(Text(info.name), info.version_key, _kind(info, lang),
                      Text(info.scenario or "–"), seed, format_number(info.cases, lang, 0),
                      when)  # fmt: skip
    table.caption, table.caption_justify = _w("note", lang), "left"
    return table


@runs_app.command("list")
def list_command(
    process: Annotated[
        str | None, typer.Option("--process", "-p", help="Only this process's run sets.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the sets as JSON.")] = False,
    lang: LangOption = None,
) -> None:
    """Every run set in the store, one line per process version it holds."""
    language = chosen(lang)
    with friendly_errors():
        engine = Workspace.current().open_store()
        try:
            sets = list_run_sets(engine, process=process)
        finally:
            engine.dispose()
    if as_json:
        data = [info.as_dict() for info in sets]
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif not sets:
        console.print(_w("none", language))
    else:
        console.print(_table(sets, language))


def _stored_sets(names: list[str]) -> list[RunSetInfo]:
    """Each named set as stored (an import once per process version it holds).

    Raises:
        CommandError: a name is no run set. NotFoundError: a set is not in the store.
    """
    wanted = [RunSet.parse(name) for name in names]
    if any(runs.mode is Mode.LIVE for runs in wanted):
        fail("live cases are never deleted as a run set; only simulated:N and imported:NAME")
    engine = Workspace.current().open_store()
    try:
        found = [(runs, list_run_sets(engine, runs=runs)) for runs in wanted]
    finally:
        engine.dispose()
    for runs, infos in found:
        if not infos:
            raise NotFoundError(f"no run set {runs.shown} in the store; see boflyt runs list")
    return [info for _, infos in found for info in infos]


def _delete(sets: list[RunSetInfo]) -> DeletedRuns:
    """Delete the sets in one transaction, then the summary files their simulations left."""
    workspace = Workspace.current()
    engine = workspace.open_store()
    try:
        deleted = delete_run_sets(engine, [info.runs for info in sets])
    finally:
        engine.dispose()
    for info in sets:
        if info.runs.mode is Mode.SIMULATED:
            shutil.rmtree(workspace.simulations_dir / info.runs.key, ignore_errors=True)
    return deleted


@runs_app.command("delete")
def delete_command(
    names: Annotated[
        list[str],
        typer.Argument(
            metavar="RUNSET...", help="simulated:N (run number or id) or imported:NAME; never live."
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
    lang: LangOption = None,
) -> None:
    """Delete simulated and imported run sets with all their cases and events (one transaction)."""
    language = chosen(lang)
    with friendly_errors():
        sets = _stored_sets(names)
        console.print(_w("will_delete", language))
        for info in sets:
            cases = count("word.cases", info.cases, language)
            console.print(Text(f"  {info.name}  {info.version_key}  {cases}"))
        if not yes and not typer.confirm(_w("confirm", language), default=False):
            fail(_w("kept", language))
        deleted = _delete(sets)
    cases = count("word.cases", deleted.cases, language)
    events = format_number(deleted.events, language, 0)
    sets_deleted = count("word.run_sets", deleted.sets, language)
    console.print(_w("deleted", language).format(sets=sets_deleted, cases=cases, events=events))
