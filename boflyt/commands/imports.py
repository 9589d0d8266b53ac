"""``boflyt import``: an event log (XES, CSV or Parquet) into the run set ``imported:NAME``.

By default it runs through the Prefect flow :func:`boflyt.flows.imports.import_event_log` in
Prefect's local mode (as ``simulate`` does); ``--no-prefect`` calls the core directly: the
reader (:func:`boflyt.formats.log_files.read_log`), the conversion
(:func:`boflyt.formats.log_import.convert_log`) and the store
(:func:`boflyt.engine.store.imports.store_import`). Both show a progress bar while the file is
read and print what the import found; ``boflyt analyse --runs imported:NAME`` reads the set.
A log that fails is refused with its place and field, and nothing is stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from boflyt.commands.language import LangOption, Words, chosen
from boflyt.console import console, fail, friendly_errors, progress
from boflyt.engine.store.imports import store_import
from boflyt.flows.imports import PROGRESS_FILE, import_event_log, import_folder, version_of
from boflyt.formats.log_files import import_row, lane_attribute, read_log
from boflyt.formats.log_import import convert_log
from boflyt.models.errors import BoflytError
from boflyt.models.runset import RunSet
from boflyt.models.vocabulary import Mode
from boflyt.models.words import Language, format_number
from boflyt.workspace import Workspace

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``import``."""
    app.command("import")(import_log)


def import_log(
    log: Annotated[Path, typer.Argument(help="The event log: .xes, .xes.gz, .csv or .parquet.")],
    name: Annotated[
        str,
        typer.Option(
            "--name",
            help="The run set's name: imported:NAME (letters, digits, '_', '.', '-'; at most 64).",
        ),
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="A mapping file (.toml/.yaml): the CSV/Parquet columns, "
            "time format and zone, or the XES organisation attribute.",
        ),
    ] = None,
    process: Annotated[
        str | None,
        typer.Option(
            "--process",
            help="PROCESS or PROCESS@vN the runs belong to (activities "
            "matched to its steps by id or name); default: the log as its own process "
            "NAME, version 0.",
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace an earlier import of the same name.")
    ] = False,
    no_prefect: Annotated[
        bool, typer.Option("--no-prefect", help="Call the import core directly.")
    ] = False,
    lang: LangOption = None,
) -> None:
    """Import an event log (XES, CSV or Parquet) into the run set imported:NAME."""
    language = chosen(lang)
    words = Words("import", language)
    with friendly_errors():
        RunSet(Mode.IMPORTED, name)  # the name's rules, before any work
        workspace = Workspace.current()
        workspace.ensure_data_dir()
        if no_prefect:
            summary = _direct(log, name, mapping, process, replace, words)
        else:
            summary = _through_prefect(log, name, mapping, process, replace, words)
    _print_summary(summary, name, words, language)


def _direct(
    log: Path, name: str, mapping: Path | None, process: str | None, replace: bool, words: Words
) -> dict[str, Any]:
    """Read, convert and store with the core; return the summary with ``stored``."""
    workspace = Workspace.current()
    version = version_of(process, str(workspace.processes_dir))
    engine = workspace.open_store()
    try:
        key = workspace.reference_key(engine)
        with progress() as bar:
            job = bar.add_task(words["reading"], total=None)
            raw = read_log(log, mapping=mapping,
                           progress=lambda done, total: bar.update(job, completed=done,
                                                                   total=total))  # fmt: skip
            bar.update(job, description=words["converting"])
            converted = convert_log(raw, name=name, key=key, version=version, source=log.name)
            bar.update(job, description=words["storing"])
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            row = import_row(converted.summary, name=name, path=log, now=now,
                             organisation=lane_attribute(log, mapping))  # fmt: skip
            stored = store_import(engine, log=row, events=converted.events, replace=replace,
                                  content_hash=version.content_hash if version else "")  # fmt: skip
    finally:
        engine.dispose()
    return {**converted.summary.as_dict(), "stored": stored}


def _through_prefect(
    log: Path, name: str, mapping: Path | None, process: str | None, replace: bool, words: Words
) -> dict[str, Any]:
    """Run the ``import_event_log`` flow in a worker thread; follow its progress file."""
    workspace = Workspace.current()
    import_id = str(uuid.uuid4())
    work_dir = str(workspace.simulations_dir)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["summary"] = asyncio.run(import_event_log(
                str(log.resolve()), name, mapping=str(mapping.resolve()) if mapping else None,
                process=process, replace=replace, processes_dir=str(workspace.processes_dir),
                work_dir=work_dir, import_id=import_id,
            ))  # fmt: skip
        except BaseException as exc:  # reported in the main thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="boflyt-import")
    loggers = [logging.getLogger(name) for name in _RUN_LOGGERS]
    for logger in loggers:
        logger.addFilter(_refusals_said_once)
    try:
        _follow(worker, import_folder(work_dir, import_id) / PROGRESS_FILE, words)
    finally:
        for logger in loggers:
            logger.removeFilter(_refusals_said_once)
    logging.getLogger("prefect").setLevel(logging.WARNING)
    error = outcome.get("error")
    if isinstance(error, BoflytError):
        raise error
    if error is not None:
        if isinstance(error, Exception) and str(error):
            fail(f"the import flow failed: {error}")
        raise error
    summary: dict[str, Any] = outcome["summary"]
    return summary


_RUN_LOGGERS = ("prefect.task_runs", "prefect.flow_runs")
"""Prefect's loggers of task and flow runs, which log a failed run's exception with its trace."""


def _refusals_said_once(record: logging.LogRecord) -> bool:
    """Keep a run's log record unless it carries a Boflyt refusal (a bad log, a name taken):
    the command says that once, as one line, without Prefect's trace of it."""
    error = record.exc_info[1] if record.exc_info else None
    return not isinstance(error, BoflytError)


def _follow(worker: threading.Thread, progress_file: Path, words: Words) -> None:
    """Start ``worker`` and show the bytes read (from ``progress_file``) until it is done."""
    with progress() as bar:
        job = bar.add_task(words["reading"], total=None)
        worker.start()
        while worker.is_alive():
            try:
                done, total = (int(n) for n in progress_file.read_text("utf-8").split())
            except (OSError, ValueError):
                done, total = 0, 0
            if total:
                described = words["reading"] if done < total else words["storing"]
                bar.update(job, completed=done, total=total, description=described)
            time.sleep(0.2)
    worker.join()


def _print_summary(summary: dict[str, Any], name: str, words: Words, lang: Language) -> None:
    table = Table(title=f"{words['title']}: imported:{name}", title_justify="left")
    table.add_column(words["figure"])
    table.add_column(words["value"], justify="right")
    table.add_row(words["version"], f"{summary['process']}@v{summary['version']}")
    for key in ("events", "cases", "steps", "handoffs"):
        table.add_row(words[key], format_number(summary[key], lang, 0))
    table.add_row(words["stored"], format_number(summary["stored"], lang, 0))
    share = format_number(100 * summary["start_share"], lang, 0)
    table.add_row(words["start_share"], f"{share} %")
    table.add_row(words["activities"], format_number(len(summary["activities"]), lang, 0))
    console.print(table)
    notes = []
    if summary["touch_time"] != "measured":
        notes.append(words[f"touch_{summary['touch_time']}"])
    if summary["other_transitions"]:
        counted = ", ".join(f"{k}: {v}" for k, v in summary["other_transitions"].items())
        notes.append(words["other_transitions"].format(counted=counted))
    if summary["unpaired_starts"]:
        notes.append(words["unpaired"].format(n=summary["unpaired_starts"]))
    if summary["unmatched_activities"]:
        unmatched = ", ".join(summary["unmatched_activities"])
        notes.append(words["unmatched"].format(activities=unmatched))
    if summary["steps_without_organisation"]:
        notes.append(words["without_org"].format(n=summary["steps_without_organisation"]))
    for note in notes:
        console.print(Text(f"• {note}", style="yellow"))
    console.print(Text(words["next"].format(name=name)))
