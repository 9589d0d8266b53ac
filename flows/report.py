"""The report flow: a facilitator's before/after report of one process, as a Prefect flow.

:func:`write_report` reads the two simulated (or live) cohorts from the store and writes the
self-contained HTML report; :func:`report_process` is the flow around it, and
:func:`write_index` writes ``index.html`` over several reports. Results are small: paths and the
headline figures, never the logs. The store is the worker's
(:func:`boflyt.flows.store.open_store`), never a parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, task

from boflyt.engine.load import load_library
from boflyt.engine.store import event_frame
from boflyt.flows import processes_or_default
from boflyt.flows.store import open_store
from boflyt.visualize.report import ReportEntry, build_index, build_report

__all__ = ["entry_of", "report_process", "write_index", "write_report"]


def entry_of(data: dict[str, Any]) -> ReportEntry:
    """A :class:`ReportEntry` back from the plain data a task returned."""
    pairs = {key: tuple(data[key]) for key in ("handoffs", "transactions", "lead_days")}
    return ReportEntry(
        process=data["process"],
        name=data["name"],
        before=data["before"],
        after=data["after"],
        path=Path(data["path"]),
        **pairs,
    )


@task(name="write-report", retries=1, retry_delay_seconds=2)
def write_report(
    process: str,
    before: int,
    after: int,
    *,
    path: str,
    before_simulation: str | None = None,
    after_simulation: str | None = None,
    lang: str = "nb",
    seed: int = 0,
    processes_dir: str | None = None,
) -> dict[str, Any]:
    """Write the report of ``process`` v``before`` → v``after``; observed figures come from the
    two simulation runs when their ids are given."""
    library = load_library(processes_or_default(processes_dir))
    events: tuple[pl.DataFrame | None, pl.DataFrame | None] = (None, None)
    if before_simulation and after_simulation:
        engine = open_store()
        try:
            events = (
                event_frame(engine, simulation_id=before_simulation),
                event_frame(engine, simulation_id=after_simulation),
            )
        finally:
            engine.dispose()
    entry = build_report(
        library.get(process, before),
        library.get(process, after),
        Path(path),
        lanes=library.lanes,
        before_events=events[0],
        after_events=events[1],
        lang=lang,
        seed=seed,
    )
    return {
        "process": entry.process,
        "name": entry.name,
        "before": entry.before,
        "after": entry.after,
        "path": str(entry.path),
        "handoffs": list(entry.handoffs),
        "transactions": list(entry.transactions),
        "lead_days": list(entry.lead_days),
    }


@flow(name="report-process")
async def report_process(
    process: str,
    before: int,
    after: int,
    path: str,
    before_simulation: str | None = None,
    after_simulation: str | None = None,
    lang: str = "nb",
    seed: int = 0,
    processes_dir: str | None = None,
) -> dict[str, Any]:
    """Write one process's before/after report; return its path and headline figures."""
    return write_report(
        process,
        before,
        after,
        path=path,
        before_simulation=before_simulation,
        after_simulation=after_simulation,
        lang=lang,
        seed=seed,
        processes_dir=processes_dir,
    )


def write_index(entries: list[dict[str, Any]], path: str, *, lang: str = "nb") -> str:
    """Write ``index.html`` linking every report; return its path."""
    return str(build_index([entry_of(data) for data in entries], Path(path), lang=lang))
