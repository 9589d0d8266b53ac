"""CLI command ``simulate``: a what-if run of a version under a scenario, stored for analysis.

By default it runs through the Prefect flow :func:`boflyt.flows.simulate.simulate_version` in
Prefect's ephemeral local mode (no server to set up; the first run in a process starts a
temporary one, which takes a few seconds). ``--no-prefect`` calls the core directly. Both give
the same log for the same arguments and write it to the store as one run set,
``simulated:<run number>``, that ``boflyt analyse/compare/report --runs simulated:N`` read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from boflyt.analysis.simulation.cohort import simulate, store_cohort
from boflyt.commands.labels import lane_text
from boflyt.commands.language import LangOption, Words, chosen
from boflyt.console import console, fail, friendly_errors, progress
from boflyt.engine.definition.load import Library, load_library, parse_ref
from boflyt.engine.definition.scenario import load_scenario
from boflyt.engine.store.queries import describe_run_set
from boflyt.flows.simulate import simulate_version, summary_path
from boflyt.models.definition import Version
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.scenario import Scenario
from boflyt.models.words import Language, format_number, word
from boflyt.workspace import Workspace

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``simulate``."""
    app.command("simulate")(simulate_command)


def simulate_command(
    ref: Annotated[str, typer.Argument(help="PROCESS or PROCESS@vN, e.g. refugee_settlement@v1.")],
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Scenario name in <process>/scenarios/.")
    ] = "default",
    cases: Annotated[int, typer.Option("--cases", "-n", min=1, help="Cases to simulate.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same log).")] = 0,
    chunks: Annotated[
        int, typer.Option("--chunks", min=1, help="Independent replications (Prefect tasks).")
    ] = 1,
    no_prefect: Annotated[
        bool, typer.Option("--no-prefect", help="Call the simulation core directly.")
    ] = False,
    lang: LangOption = None,
) -> None:
    """Simulate cases of PROCESS@VERSION under a scenario and store them (through Prefect's
    local mode unless --no-prefect)."""
    with friendly_errors():
        workspace = Workspace.current()
        language = chosen(lang)
        words = Words("simulate", language)
        library = load_library(workspace.processes_dir)
        process, number = parse_ref(ref)
        version = library.get(process, number)
        world = load_scenario(
            library.scenario_path(process, scenario), version=version, lanes=library.lanes
        )
        workspace.ensure_data_dir()
        order = _Order(library, version, world, cases=cases, seed=seed, chunks=chunks, words=words)
        simulation_id, summary = (_direct if no_prefect else _through_prefect)(order)
        stored = _stored(simulation_id, version)
    _print_summary(summary, stored, library, words, language)


@dataclass(frozen=True)
class _Order:
    """What to simulate, and the words to show while it runs."""

    library: Library
    version: Version
    world: Scenario
    cases: int
    seed: int
    chunks: int
    words: Words


def _stored(simulation_id: str, version: Version) -> RunSetInfo:
    """The run set the simulation was stored as (with its run number)."""
    engine = Workspace.current().open_store()
    try:
        return describe_run_set(engine, RunSet.simulation(simulation_id),
                                process=version.process, version=version.version)  # fmt: skip
    finally:
        engine.dispose()


def _direct(order: _Order) -> tuple[str, dict[str, Any]]:
    """Simulate with the core, store the cohort; return its id and summary."""
    simulation_id = str(uuid.uuid4())
    version, world = order.version, order.world
    with progress() as bar:
        job = bar.add_task(order.words["simulating"], total=order.cases)
        result = simulate(version, world, cases=order.cases, seed=order.seed, chunks=order.chunks,
                          lanes=order.library.lanes, case_prefix=simulation_id[:8],
                          progress=lambda done: bar.update(job, completed=done))  # fmt: skip
        bar.update(job, description=order.words["storing"])
        engine = Workspace.current().open_store()
        store_cohort(engine, version, result.events, simulation_id=simulation_id,
                     scenario=world.name, seed=order.seed, cases=order.cases,
                     lanes=order.library.lanes)  # fmt: skip
        engine.dispose()
    return simulation_id, result.summary()


def _through_prefect(order: _Order) -> tuple[str, dict[str, Any]]:
    """Run the ``simulate_version`` flow in a worker thread; follow its chunk files."""
    workspace = Workspace.current()
    simulation_id = str(uuid.uuid4())
    work_dir = str(workspace.simulations_dir)
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            asyncio.run(simulate_version(
                order.version.process, order.version.version, order.world.name,
                cases=order.cases, seed=order.seed, chunks=order.chunks,
                processes_dir=str(workspace.processes_dir), work_dir=work_dir,
                simulation_id=simulation_id,
            ))  # fmt: skip
        except BaseException as exc:  # reported in the main thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="boflyt-simulate")
    _follow(worker, Path(work_dir) / simulation_id, order)
    logging.getLogger("prefect").setLevel(logging.WARNING)  # quiet the server's exit notice
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, Exception) and str(error):
            fail(f"the simulation flow failed: {error}")
        raise error
    summary = json.loads(summary_path(work_dir, simulation_id).read_text(encoding="utf-8"))
    return simulation_id, summary


def _follow(worker: threading.Thread, folder: Path, order: _Order) -> None:
    """Start ``worker`` and show a bar of the chunk files it writes to ``folder`` until done."""
    words = order.words
    with progress() as bar:
        job = bar.add_task(words["simulating"], total=order.chunks)
        worker.start()
        while worker.is_alive():
            done = len(list(folder.glob("*-leads.parquet"))) if folder.is_dir() else 0
            described = words["storing"] if done >= order.chunks else words["simulating"]
            bar.update(job, completed=done, description=described)
            time.sleep(0.2)
    worker.join()


def _print_summary(
    summary: dict[str, Any],
    stored: RunSetInfo,
    library: Library,
    words: Words,
    lang: Language,
) -> None:
    title = f"{words['title']}: {stored.version_key} · {stored.label(lang)}"
    table = Table(title=title, title_justify="left")
    table.add_column(words["figure"])
    table.add_column(words["value"], justify="right")
    table.add_row(words["cases"], format_number(summary["cases"], lang, 0))
    table.add_row(words["events"], format_number(summary["events"], lang, 0))
    lead = summary["lead_time_days"]
    for key in ("mean", "median", "p90"):
        table.add_row(words[key], "–" if lead[key] is None else format_number(lead[key], lang))
    for lane, share in summary["utilisation"].items():
        name = lane_text(lane, library.lanes, lang)
        table.add_row(f"{words['util']} {name}", f"{format_number(100 * share, lang, 0)} %")
    table.add_row(word("runs.run_set", lang), stored.name)
    table.add_row(words["id"], stored.runs.key)
    console.print(table)
