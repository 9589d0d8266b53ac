"""``boflyt export``: hand a run set to process-mining tools — XES, OCEL 2.0, CSV or Parquet.

The run set (``live``, ``simulated:N`` or ``imported:NAME``, optionally one process version of
it) is read from the store as its event frame and written with pseudonyms only:

* case ids are Boflyt's own (random for live cases, generated for simulations, keyed digests
  for imports), never a case reference;
* every actor (a person's username) becomes ``res-`` and 12 hex digits of an HMAC with the
  store's key (:func:`export_frame`): the same person gets the same pseudonym in every export
  of the store, and nothing without the key links it back;
* the free-text ``detail`` (completion notes, cancellation reasons) is never exported.

The file is written beside its destination under a temporary name and renamed into place when
complete, so a failed export leaves no half-written file.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import tempfile
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import polars as pl
import typer
from rich.text import Text

from boflyt.commands.language import LangOption, Words, chosen
from boflyt.console import console, fail, friendly_errors, progress
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.definition import Version
from boflyt.models.errors import CommandError, NotFoundError
from boflyt.models.runset import RunSet
from boflyt.models.vocabulary import Mode
from boflyt.models.words import format_number
from boflyt.workspace import Workspace

__all__ = ["ExportFormat", "export", "export_frame", "register", "resource_pseudonym"]

_LABEL = b"boflyt exported resource"


class ExportFormat(StrEnum):
    """The formats ``boflyt export`` writes."""

    XES = "xes"
    OCEL = "ocel"
    CSV = "csv"
    PARQUET = "parquet"


_SUFFIXES = (
    (".xes.gz", ExportFormat.XES), (".xes", ExportFormat.XES), (".jsonocel", ExportFormat.OCEL),
    (".json", ExportFormat.OCEL), (".csv", ExportFormat.CSV), (".parquet", ExportFormat.PARQUET),
)  # fmt: skip
"""The format a file name implies when ``--format`` is not given."""


def resource_pseudonym(key: ReferenceKey, actor: str) -> str:
    """An actor's export pseudonym: ``res-`` and 12 hex digits of an HMAC with the store's key.

    >>> key = ReferenceKey(bytes(32))
    >>> resource_pseudonym(key, "kari") == resource_pseudonym(key, "kari")
    True
    >>> resource_pseudonym(key, "kari")[:4], len(resource_pseudonym(key, "kari"))
    ('res-', 16)
    """
    message = b"\x1f".join((_LABEL, actor.encode()))
    return "res-" + hmac.new(key.secret, message, hashlib.sha256).hexdigest()[:12]


def export_frame(events: pl.DataFrame, key: ReferenceKey) -> pl.DataFrame:
    """``events`` as it may leave the store: actors pseudonymised, ``detail`` emptied.

    >>> frame = pl.DataFrame({"actor": ["kari", None], "detail": ["note", None]})
    >>> out = export_frame(frame, ReferenceKey(bytes(32)))
    >>> out["actor"][0].startswith("res-"), out["actor"][1], out["detail"].null_count()
    (True, None, 2)
    """
    actors = events["actor"].drop_nulls().unique().to_list()
    names = {actor: resource_pseudonym(key, actor) for actor in actors}
    return events.with_columns(
        pl.col("actor").replace_strict(names, default=None, return_dtype=pl.String),
        pl.lit(None, pl.String).alias("detail"),
    )


def _format(output: Path, chosen_format: ExportFormat | None) -> ExportFormat:
    if chosen_format is not None:
        return chosen_format
    name = output.name.lower()
    found = next((kind for suffix, kind in _SUFFIXES if name.endswith(suffix)), None)
    if found is None:
        fail(f"--format: {output.name} does not say which format; give --format xes, ocel, csv "
             "or parquet (or a file ending .xes, .xes.gz, .json, .csv or .parquet)")  # fmt: skip
    return found


def _writable(output: Path) -> None:
    """Refuse, before reading the store, a destination that cannot be written."""
    folder = output.parent
    if output.is_dir():
        raise CommandError(f"cannot write {output}: it is a folder; give a file name")
    if not folder.is_dir():
        raise CommandError(f"cannot write {output}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"cannot write {output}: the folder {folder} is not writable")


def _read(
    runs: RunSet, process: str | None
) -> tuple[pl.DataFrame, ReferenceKey, list[tuple[str, int]]]:
    """The run set's events (of one process version when asked), the store's key, and the
    process versions (process, number) the events run on.

    Raises:
        NotFoundError: the run set is not in the store. CommandError: it holds no events.
    """
    from boflyt.engine.definition.load import parse_ref
    from boflyt.engine.store.eventlog import event_frame
    from boflyt.engine.store.queries import list_run_sets

    wanted, version = parse_ref(process) if process else (None, None)
    workspace = Workspace.current()
    engine = workspace.open_store()
    try:
        if not list_run_sets(engine, runs=runs) and runs.mode is not Mode.LIVE:
            raise NotFoundError(f"no run set {runs.shown} in the store; see boflyt runs list")
        events = event_frame(engine, runs=runs, process=wanted, version=version)
        if events.is_empty():
            of = f" of {process}" if process else ""
            raise CommandError(f"the run set {runs.shown} holds no events{of}; nothing exported")
        key = workspace.reference_key(engine)
    finally:
        engine.dispose()
    pairs = events.select("process", "version").unique().sort("process", "version")
    return events, key, [(p, v) for p, v in pairs.iter_rows()]


Writer = Callable[[pl.DataFrame, Path, Callable[[int, int | None], None]], int]
"""A format's writer: (events, path, progress) -> the number of events written."""


def _writer(kind: ExportFormat, versions: list[tuple[str, int]]) -> Writer:
    """The format's writer (each imported only when chosen)."""
    if kind is ExportFormat.XES:
        from boflyt.formats.xes import write_xes

        return lambda events, path, told: write_xes(events, path, progress=told)
    if kind is ExportFormat.OCEL:
        from boflyt.formats.ocel import step_objects, write_ocel

        objects = step_objects(_versions(versions))
        return lambda events, path, told: write_ocel(events, path, objects=objects, progress=told)
    from boflyt.formats.table_log import write_table

    table: Literal["csv", "parquet"] = "csv" if kind is ExportFormat.CSV else "parquet"
    return lambda events, path, told: write_table(events, path, format=table)


def _versions(keys: list[tuple[str, int]]) -> list[Version]:
    """The library's versions among ``keys``; an import's own "log as logged" version (0), or
    a process the library lacks, has none."""
    from boflyt.engine.definition.load import load_library

    library = load_library(Workspace.current().processes_dir)
    return [v for process, number in keys for v in library.by_process.get(process, ())
            if v.version == number]  # fmt: skip


def _write_atomically(output: Path, write: Callable[[Path], int]) -> int:
    """Write to a temporary file beside ``output`` (ending as its name does, so a writer that
    reads the suffix, such as ``.gz``, sees it), then rename it into place."""
    handle, name = tempfile.mkstemp(prefix=".partial-", suffix=f"-{output.name}",
                                    dir=output.parent)  # fmt: skip
    os.close(handle)
    temporary = Path(name)
    try:
        written = write(temporary)
        temporary.chmod(0o644 & ~_umask())
        os.replace(temporary, output)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return written


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def export(
    runset: Annotated[
        str,
        typer.Argument(
            metavar="RUNSET",
            help="live, simulated:N (see boflyt runs list) or imported:NAME.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="The file to write (replaced if it exists).", show_default=False
        ),
    ],
    kind: Annotated[
        ExportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="xes (IEEE 1849-2023; .gz compressed when the file "
            "ends .gz), ocel (OCEL 2.0 JSON), csv or parquet; default: from the file "
            "name.",
            show_default=False,
        ),
    ] = None,
    process: Annotated[
        str | None,
        typer.Option(
            "--process",
            "-p",
            metavar="P[@vN]",
            help="Only the cases of this process (or process version) in the run set.",
        ),
    ] = None,
    lang: LangOption = None,
) -> None:
    """Export a run set as XES, OCEL 2.0, CSV or Parquet (pseudonyms only).

    Case ids are Boflyt's own, people are keyed pseudonyms (res-…), notes are never written.
    The file appears only when complete.
    """
    words = Words("export", chosen(lang))
    with friendly_errors():
        _writable(output)
        chosen_format = _format(output, kind)
        runs = RunSet.parse(runset)
        events, key, versions = _read(runs, process)
        frame = export_frame(events, key)
        writer = _writer(chosen_format, versions)
        with progress() as bar:
            job = bar.add_task(words["writing"], total=frame.height)

            def told(done: int, total: int | None = None) -> None:
                bar.update(job, completed=done, total=total or frame.height)

            try:
                written = _write_atomically(output, lambda path: writer(frame, path, told))
            except OSError as exc:
                raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
    count = format_number(written, words.lang, 0)
    said = words["done"].format(
        events=count,
        runs=str(runs),
        file=str(output),
        format=chosen_format.value,
        versions=", ".join(f"{p}@v{v}" for p, v in versions),
    )
    console.print(Text(said), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``export``."""
    app.command("export")(export)
