"""``boflyt demo``: the main job — every process simulated before and after, compared, reported.

For each process of the library, the newest published version and the version it is based on
are simulated under the process's default scenario (Prefect flow ``compare-versions`` in
Prefect's local mode), stored, compared, and written up as a report (flow ``report-process``);
``reports/index.html`` links the reports. A summary table ends the run, with the run sets it
stands on.

Each simulation is stored as a run set marked as the demo's (origin ``demo``), and storing it
deletes the demo's earlier set of the same process version in the same transaction: running the
demo again leaves the store the same size. Sets stored by ``boflyt simulate`` are never touched.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from boflyt.commands.language import LangOption, Words, chosen
from boflyt.console import console, friendly_errors, progress
from boflyt.engine.definition.load import Library, load_library
from boflyt.flows.analyse import compare_versions
from boflyt.flows.report import report_process, write_index
from boflyt.models.runset import SimulationOrigin, run_word
from boflyt.models.words import Language, count, format_number, word
from boflyt.workspace import Workspace

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``demo``."""
    app.command("demo")(demo_command)


def demo_command(
    cases: Annotated[
        int, typer.Option("--cases", "-n", min=10, help="Simulated cases per version.")
    ] = 400,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same figures).")] = 1,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for the reports (default: reports/).")
    ] = None,
    lang: LangOption = None,
) -> None:
    """The main job: simulate every process before and after its LEAN redesign, compare, and
    write reports/index.html."""
    started = time.perf_counter()
    with friendly_errors():
        workspace = Workspace.current()
        language = chosen(lang)
        words = Words("demo", language)
        folder = out or workspace.reports_dir
        library = load_library(workspace.processes_dir)
        workspace.ensure_data_dir()
        results = _run(library, workspace, folder, cases, seed, language, words)
    _print_summary(results, library, cases, seed, language, words)
    console.print(f"\n{words['open']}: [bold]{(folder / 'index.html').resolve()}[/]")
    seconds = format_number(time.perf_counter() - started, language, 0)
    console.print(word("demo.took", language, seconds=seconds))


def _plan(library: Library) -> list[tuple[str, int, int]]:
    """(process, before, after): the newest published version and the one it is based on."""
    plan = []
    for process in library.processes():
        after = library.get(process)
        if after.based_on is not None:
            plan.append((process, after.based_on, after.version))
    return plan


def _run(
    library: Library,
    workspace: Workspace,
    folder: Path,
    cases: int,
    seed: int,
    lang: Language,
    words: Words,
) -> list[dict[str, Any]]:
    plan = _plan(library)
    common: dict[str, Any] = {
        "seed": seed,
        "processes_dir": str(workspace.processes_dir),
    }
    results: list[dict[str, Any]] = []
    with progress() as bar:
        job = bar.add_task("", total=2 * len(plan) + 1)
        for process, before, after in plan:
            name = library.get(process, after).name.get(lang)
            label = words["simulating"].format(name=name, before=before, after=after)
            bar.update(job, description=label)
            compared = asyncio.run(
                compare_versions(
                    process,
                    before,
                    after,
                    cases=cases,
                    work_dir=str(workspace.simulations_dir),
                    lang=lang,
                    origin=SimulationOrigin.DEMO.value,
                    replace=True,
                    **common,
                )
            )
            bar.update(job, advance=1, description=words["reporting"].format(name=name))
            entry = asyncio.run(
                report_process(
                    process,
                    before,
                    after,
                    str(folder / f"{process}.html"),
                    before_runs=compared["before_runs"],
                    after_runs=compared["after_runs"],
                    lang=lang,
                    **common,
                )
            )
            for key in ("before_simulation", "after_simulation"):  # the flow's summary files
                shutil.rmtree(workspace.simulations_dir / compared[key], ignore_errors=True)
            results.append({"entry": entry, "comparison": compared["comparison"]})
            bar.update(job, advance=1)
        bar.update(job, description=words["index"])
        write_index([r["entry"] for r in results], str(folder / "index.html"), lang=lang)
        bar.update(job, advance=1)
    return results


def _row(comparison: dict[str, Any], key: str, source: str) -> dict[str, Any] | None:
    return next((r for r in comparison["rows"] if r["key"] == key and r["source"] == source), None)


def _pair(row: dict[str, Any] | None, lang: Language, digits: int = 1) -> str:
    if row is None or row["before"] is None or row["after"] is None:
        return "–"
    before, after = (format_number(row[side], lang, digits) for side in ("before", "after"))
    text = f"{before} → {after}"
    pct = row["pct_change"]
    if pct is None:
        return text
    return text + f"\n({'+' if round(pct) > 0 else ''}{format_number(pct, lang, 0)} %)"


def _print_summary(
    results: list[dict[str, Any]],
    library: Library,
    cases: int,
    seed: int,
    lang: Language,
    words: Words,
) -> None:
    title = word("demo.title", lang, cases=count("word.cases", cases, lang))
    table = Table(title=title, title_justify="left")
    table.add_column(words["process"], min_width=12, max_width=24)
    for column in ("handoffs", "transactions", "lead", "lead_sim"):
        table.add_column(words[column], justify="right", min_width=12)
    for result in results:
        comparison = result["comparison"]
        name = library.get(comparison["process"], comparison["after"]).name.get(lang)
        table.add_row(
            name,
            _pair(_row(comparison, "expected_handoffs", "design"), lang),
            _pair(_row(comparison, "expected_transactions", "design"), lang),
            _pair(_row(comparison, "lead_days", "design"), lang),
            _pair(_row(comparison, "observed_lead_days", "observed"), lang),
        )
    console.print(table)
    console.print(words["note"])
    console.print(_runs_note(results, lang, seed))


def _runs_note(results: list[dict[str, Any]], lang: Language, seed: int) -> str:
    """Which run set each simulated figure of the summary stands on."""
    sets = []
    for result in results:
        runs = result["comparison"]["runs"]
        numbers = " → ".join(str(runs[side]["number"]) for side in ("before", "after"))
        sets.append(f"{result['comparison']['process']} {run_word('run', lang)} {numbers}")
    return word("demo.runs_note", lang, seed=seed, sets="; ".join(sets))
