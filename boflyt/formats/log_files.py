"""Event-log files: the reader a file's suffix calls for, its digest, and its import row.

:func:`read_log` reads ``.xes`` / ``.xes.gz`` with :func:`boflyt.formats.xes.read_xes` (the
mapping's ``organisation`` attribute, else ``org:group``, falling back to ``org:resource``) and
``.csv`` / ``.parquet`` with :func:`boflyt.formats.table_log.read_table` (the mapping's columns;
without a mapping file the default column names). :func:`import_row` is the ``imported_log`` row
an import leaves: the file's name and SHA-256, never its path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl

from boflyt.formats.log_frame import LogError, Progress
from boflyt.formats.log_import import ImportSummary
from boflyt.formats.mapping import LogMapping, load_mapping
from boflyt.formats.table_log import read_table
from boflyt.formats.xes import read_xes
from boflyt.models.tables import ImportedLog

__all__ = ["LOG_SUFFIXES", "file_sha256", "import_row", "lane_attribute", "read_log"]

LOG_SUFFIXES = (".xes", ".xes.gz", ".csv", ".parquet")
"""The event-log files ``boflyt import`` reads, by suffix."""
_XES_DEFAULT = "org:group"


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return next((s for s in sorted(LOG_SUFFIXES, key=len, reverse=True) if name.endswith(s)), "")


def read_log(
    path: Path, *, mapping: Path | None = None, progress: Progress | None = None
) -> pl.DataFrame:
    """The raw log frame of the event log at ``path``, read by its suffix.

    Raises:
        LogError: an unknown suffix, a missing file, or what the reader refuses (place, field).
    """
    suffix = _suffix(path)
    if not suffix:
        found = "".join(path.suffixes) or "no suffix"
        raise LogError(path.name, "", None, f"{found} is not an event log Boflyt reads; "
                       f"allowed: {', '.join(LOG_SUFFIXES)}")  # fmt: skip
    if not path.is_file():
        raise LogError(path.name, "", None, f"no such file: {path}")
    chosen = load_mapping(mapping) if mapping is not None else LogMapping()
    if suffix.startswith(".xes"):
        return read_xes(path, organisation=chosen.organisation, progress=progress)
    return read_table(path, chosen, progress=progress)


def lane_attribute(path: Path, mapping: Path | None = None) -> str:
    """The log attribute (or column) the lanes come from, as the import row records it."""
    chosen = load_mapping(mapping) if mapping is not None else LogMapping()
    if _suffix(path).startswith(".xes"):
        return chosen.organisation or f"{_XES_DEFAULT} (else org:resource)"
    return chosen.organisation or "organisation"


def file_sha256(path: Path) -> str:
    """The SHA-256 (hex) of the file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def import_row(
    summary: ImportSummary,
    *,
    name: str,
    path: Path,
    organisation: str,
    now: dt.datetime,
    sha256: str | None = None,
) -> ImportedLog:
    """The ``imported_log`` row of an import (``now`` naive UTC; the digest read if not given)."""
    return ImportedLog(
        name=name, process=summary.process, version=summary.version, source=path.name[:255],
        sha256=sha256 or file_sha256(path), events=summary.events, cases=summary.cases,
        start_share=summary.start_share,
        activities=json.dumps(summary.activities, ensure_ascii=False),
        organisation=organisation[:64], imported_at=now,
    )  # fmt: skip
