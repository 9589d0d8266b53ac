"""The report flow: a facilitator's before/after report of one process, as a Prefect flow.

:func:`report_process` reads one run set per version from the store (``live``, ``simulated:N``
or ``imported:NAME``; never several pooled) and writes the self-contained HTML report;
:func:`write_index` writes ``index.html`` over several reports. Results are small: paths and
the headline figures, never the logs. The store is the worker's
(:func:`boflyt.flows.store.open_store`), never a parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow
from sqlalchemy.engine import Engine

from boflyt.engine.definition.load import load_library
from boflyt.engine.store.eventlog import run_set_log
from boflyt.flows import processes_or_default
from boflyt.flows.store import open_store
from boflyt.models.definition import Version
from boflyt.models.errors import NotFoundError
from boflyt.models.runset import RunSet, RunSetInfo
from boflyt.models.words import DEFAULT_LANGUAGE, Language
from boflyt.visualize.report import ReportEntry, build_index, build_report

__all__ = ["entry_of", "report_process", "run_set_logs", "write_index"]


def entry_of(data: dict[str, Any]) -> ReportEntry:
    """A :class:`ReportEntry` back from the plain data a task returned."""
    return ReportEntry.from_dict(data)


def run_set_logs(
    engine: Engine, versions: tuple[Version, Version], names: tuple[str, str]
) -> tuple[tuple[RunSetInfo, RunSetInfo], tuple[pl.DataFrame, pl.DataFrame]]:
    """Each version's run set (by name, e.g. ``live`` or ``simulated:3``) and its event log.

    Raises:
        NotFoundError: a set has no case of its version.
        CommandError: a name is no run set, or names a simulation of another version.
    """
    found = []
    for version, name in zip(versions, names, strict=True):
        runs = RunSet.parse(name)
        info, frame = run_set_log(engine, runs, process=version.process, version=version.version)
        if frame.is_empty():
            raise NotFoundError(f"{runs.shown} holds no runs of {version.key}")
        found.append((info, frame))
    (b_info, b_log), (a_info, a_log) = found
    return (b_info, a_info), (b_log, a_log)


@flow(name="report-process", retries=1, retry_delay_seconds=2)
async def report_process(
    process: str,
    before: int,
    after: int,
    path: str,
    before_runs: str | None = None,
    after_runs: str | None = None,
    lang: Language = DEFAULT_LANGUAGE,
    seed: int = 0,
    processes_dir: str | None = None,
) -> dict[str, Any]:
    """Write one process's before/after report; return its path and headline figures.

    ``before_runs``/``after_runs`` name one run set per version (e.g. ``live``,
    ``simulated:3``, ``imported:NAME``) for the run-based figures; without them the report
    shows design figures. The flow is the one unit of work (retried once): its parameters
    are the report's, so no task repeats them.
    """
    library = load_library(processes_or_default(processes_dir))
    versions = library.get(process, before), library.get(process, after)
    events: tuple[pl.DataFrame | None, pl.DataFrame | None] = (None, None)
    runs: tuple[RunSetInfo | None, RunSetInfo | None] = (None, None)
    if before_runs and after_runs:
        engine = open_store()
        try:
            runs, events = run_set_logs(engine, versions, (before_runs, after_runs))
        finally:
            engine.dispose()
    entry = build_report(
        *versions,
        Path(path),
        lanes=library.lanes,
        before_events=events[0],
        after_events=events[1],
        before_runs=runs[0],
        after_runs=runs[1],
        lang=lang,
        seed=seed,
    )
    return entry.as_dict()


def write_index(
    entries: list[dict[str, Any]], path: str, *, lang: Language = DEFAULT_LANGUAGE
) -> str:
    """Write ``index.html`` linking every report; return its path."""
    return str(build_index([entry_of(data) for data in entries], Path(path), lang=lang))
