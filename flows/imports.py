"""The ``import_event_log`` flow: read an event log, make Boflyt events of it, store the run set.

Two tasks, each one core call: :func:`convert_part` reads the file
(:func:`boflyt.formats.log_files.read_log`) and converts it
(:func:`boflyt.formats.log_import.convert_log`), writing the events to a Parquet file in the
work directory and returning its path, the summary and the ``imported_log`` row;
:func:`store_part` stores them as the run set ``imported:<name>`` in one transaction
(:func:`boflyt.engine.store.imports.store_import`). While reading, the convert task leaves
``progress`` (bytes read and the file's size) in its folder, which ``boflyt import`` follows.

The store is never a parameter (:func:`boflyt.flows.store.open_store`); neither is the key: the
tasks take the worker's store key (:meth:`boflyt.workspace.Workspace.reference_key`), so case
ids are pseudonymised where the store is. ``processes_dir`` and ``work_dir`` default to the
worker's workspace.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, task

from boflyt.engine.definition.load import load_library, parse_ref
from boflyt.engine.store.imports import store_import
from boflyt.flows import processes_or_default, work_dir_or_default
from boflyt.flows.store import flow_workspace, open_store
from boflyt.formats.log_files import import_row, lane_attribute, read_log
from boflyt.formats.log_frame import Progress
from boflyt.formats.log_import import convert_log
from boflyt.models.definition import Version
from boflyt.models.tables import ImportedLog

__all__ = [
    "PROGRESS_FILE",
    "convert_part",
    "import_event_log",
    "import_folder",
    "progress_writer",
    "store_part",
    "version_of",
]

PROGRESS_FILE = "progress"
"""The file in an import's work folder holding ``done total`` (bytes) while the log is read."""


def import_folder(work_dir: str | None, import_id: str) -> Path:
    """The work folder of one import run (its events file and progress)."""
    return work_dir_or_default(work_dir) / "imports" / import_id


def progress_writer(folder: Path, every: float = 0.2) -> Progress:
    """A reader's progress callback that writes ``done total`` to ``folder``/progress, at most
    every ``every`` seconds (and always at the end)."""
    folder.mkdir(parents=True, exist_ok=True)
    last = [0.0]

    def write(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] >= every or (total is not None and done >= total):
            last[0] = now
            (folder / PROGRESS_FILE).write_text(f"{done} {total or 0}", encoding="utf-8")

    return write


def version_of(ref: str | None, processes_dir: str | None) -> Version | None:
    """The version ``PROCESS[@vN]`` names (newest published without N), or None."""
    if ref is None:
        return None
    process, number = parse_ref(ref)
    return load_library(processes_or_default(processes_dir)).get(process, number)


@task(name="convert-log")
def convert_part(
    path: str,
    name: str,
    *,
    folder: str,
    mapping: str | None = None,
    process: str | None = None,
    processes_dir: str | None = None,
) -> dict[str, Any]:
    """Read and convert the log; write its events to Parquet; return the events file, the
    summary (:meth:`~boflyt.formats.log_import.ImportSummary.as_dict`), the import row and the
    version's content hash."""
    source, mapped, out = Path(path), Path(mapping) if mapping else None, Path(folder)
    version = version_of(process, processes_dir)
    engine = open_store()
    try:
        key = flow_workspace().reference_key(engine)
    finally:
        engine.dispose()
    raw = read_log(source, mapping=mapped, progress=progress_writer(out))
    converted = convert_log(raw, name=name, key=key, version=version, source=source.name)
    events = out / "events.parquet"
    converted.events.write_parquet(events)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    row = import_row(converted.summary, name=name, path=source, now=now,
                     organisation=lane_attribute(source, mapped))  # fmt: skip
    return {
        "events": str(events),
        "summary": converted.summary.as_dict(),
        "row": row.model_dump(mode="json"),
        "content_hash": version.content_hash if version is not None else "",
    }


@task(name="store-import")
def store_part(part: dict[str, Any], *, replace: bool = False) -> int:
    """Store the converted log as its run set (one transaction); return the events written."""
    events = pl.read_parquet(part["events"])
    engine = open_store()
    try:
        return store_import(engine, log=ImportedLog.model_validate(part["row"]), events=events,
                            content_hash=part["content_hash"], replace=replace)  # fmt: skip
    finally:
        engine.dispose()


@flow(name="import-event-log")
async def import_event_log(
    path: str,
    name: str,
    mapping: str | None = None,
    process: str | None = None,
    replace: bool = False,
    processes_dir: str | None = None,
    work_dir: str | None = None,
    import_id: str | None = None,
) -> dict[str, Any]:
    """Import the event log at ``path`` as the run set ``imported:<name>``; return the summary
    with ``stored``, the events written.

    ``process`` is ``PROCESS[@vN]`` (the run set then belongs to that version), else the log is
    its own process ``name``, version 0. ``import_id`` names the work folder (to follow it).
    """
    folder = import_folder(work_dir, import_id or str(uuid.uuid4()))
    try:
        part = convert_part(path, name, folder=str(folder), mapping=mapping, process=process,
                            processes_dir=processes_dir)  # fmt: skip
        stored = store_part(part, replace=replace)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {**part["summary"], "stored": stored}
