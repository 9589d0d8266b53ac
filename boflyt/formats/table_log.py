"""Flat event logs as tables: CSV and Parquet read into the raw log frame, and written.

:func:`read_table` reads a municipality's exported table with a
:class:`~boflyt.formats.mapping.LogMapping`, column at a time (a lazy polars scan of only the
mapped columns; no Python loop per row). Times become naive UTC: a value with an offset keeps
its instant, a value without one is read in the mapping's time zone. In a naive local time that
happens twice (the autumn DST change) the earlier instant is taken; one that never happens (the
spring change) is refused. ``row`` is the row a spreadsheet shows (CSV: header = row 1, so data
starts at row 2; Parquet: the row index + 1).

:func:`write_table` writes a Boflyt event frame as the flat log that spreadsheets and
process-mining tools read: one row per step start or completion, with the columns
:data:`EXPORT_COLUMNS`. ``LogMapping()`` reads it back unchanged.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

import polars as pl

from boflyt.formats.log_frame import RAW_SCHEMA, LogError, Progress
from boflyt.formats.log_times import ISO, column_times, text_times
from boflyt.formats.mapping import LogMapping
from boflyt.models.errors import CommandError
from boflyt.models.vocabulary import EventKind

__all__ = ["EXPORT_COLUMNS", "ISO_FORMAT", "flat_log", "read_table", "write_table"]

EXPORT_COLUMNS = ("case", "activity", "timestamp", "lifecycle", "resource", "organisation",
                  "process", "version")  # fmt: skip
"""The columns :func:`write_table` writes, in order."""
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"
"""How :func:`write_table` writes times in CSV: ISO 8601 in UTC, ``2024-03-01T08:15:00+00:00``."""

_SUFFIXES: dict[str, Literal["csv", "parquet"]] = {".csv": "csv", ".parquet": "parquet"}
_OPTIONAL = ("resource", "organisation", "lifecycle")
"""Mapping keys whose column is read by its own name when the mapping leaves them unset."""
_TEXT_KEYS = {"case": "case", "activity": "activity", "resource": "resource",
              "organisation": "org", "lifecycle": "lifecycle"}  # fmt: skip
_TIMES = ("timestamp", "start_timestamp")
_T = TypeVar("_T")


def read_table(
    path: Path, mapping: LogMapping, *, progress: Progress | None = None
) -> pl.DataFrame:
    """Read the CSV or Parquet event log at ``path`` into the raw log frame.

    Raises:
        LogError: the file is not CSV/Parquet (by suffix or content), a column the mapping names
            is missing (the columns found are listed), a case or activity is empty, a timestamp
            is empty, unparseable or never happens (the row, the column, the value and the
            expected format). Nothing is returned from a file that fails.
    """
    kind = _kind(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LogError(path.name, "", None, f"cannot read the file: {exc.strerror}") from None
    if progress is not None:
        progress(0, size)
    scan = _scan(path, kind, mapping).with_row_index("row", offset=2 if kind == "csv" else 1)
    schema = _guard(path, mapping, scan.collect_schema)
    if kind == "csv" and any("\ufffd" in name for name in schema.names()):
        raise _undecodable(path, mapping)  # polars reads the header leniently
    columns = _columns(path, mapping, schema)
    frame = _guard(
        path, mapping, scan.select(_cells(columns, schema, mapping, trim=kind == "csv")).collect
    )
    frame = frame.with_columns(
        text_times(frame[key], pattern=mapping.timestamp_format, zone=mapping.time_zone)
        for key in columns
        if key in _TIMES and frame[key].dtype == pl.String
    )
    cells = [name for name in frame.columns if name != "row" and not name.endswith("_given")]
    blank = frame.select(pl.all_horizontal(pl.col(cells).is_null())).to_series()
    if blank.any():  # blank lines hold nothing
        frame = frame.filter(~blank)
    _check(path, mapping, frame, columns, scan)
    if progress is not None:
        progress(size, size)
    return _raw(frame)


def _kind(path: Path) -> Literal["csv", "parquet"]:
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise LogError(
            path.name, "", None, f"not a CSV or Parquet file ('{path.suffix}'); allowed: "
            ".csv, .parquet (and .xes, .xes.gz for XES logs)"
        )  # fmt: skip
    return kind


def _scan(path: Path, kind: str, mapping: LogMapping) -> pl.LazyFrame:
    """The lazy scan of the file; CSV in another encoding than UTF-8 is decoded first."""
    if kind == "parquet":
        return pl.scan_parquet(path)
    source: Path | bytes = path
    if codecs.lookup(mapping.encoding).name != "utf-8":
        try:
            source = path.read_bytes().decode(mapping.encoding).encode()
        except UnicodeDecodeError:
            raise _undecodable(path, mapping) from None
    return pl.scan_csv(source, separator=mapping.separator, infer_schema=False)


def _guard(path: Path, mapping: LogMapping, call: Callable[[], _T]) -> _T:
    """``call()``, with polars' refusal of the file as a :class:`LogError`."""
    kind = _kind(path)
    try:
        return call()
    except pl.exceptions.NoDataError:
        raise LogError(path.name, "", None, "the file is empty (no header row)") from None
    except pl.exceptions.PolarsError as exc:
        if kind == "csv" and "utf-8" in str(exc).lower():
            raise _undecodable(path, mapping) from None
        if kind == "csv" and (found := _malformed(path, mapping)) is not None:
            raise found from None
        shown = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LogError(path.name, "", None, f"not a readable {kind} file: {shown}") from None


def _undecodable(path: Path, mapping: LogMapping) -> LogError:
    """Where the first byte that is not in the mapping's encoding stands: line, and column."""
    data, encoding, separator = path.read_bytes(), mapping.encoding, mapping.separator
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        at = exc.start
    else:
        return LogError(path.name, "", None, f"not a readable CSV file: not {encoding} text")
    line, begins = data.count(b"\n", 0, at) + 1, data.rfind(b"\n", 0, at) + 1
    index = data[begins:at].decode(encoding, "replace").count(separator)
    header = data.split(b"\n", 1)[0].decode(encoding, "replace").lstrip("\ufeff").rstrip("\r")
    names = [name.strip().strip('"') for name in header.split(separator)]
    return LogError(
        path.name, f"line {line}", names[index] if line > 1 and index < len(names) else None,
        f"byte 0x{data[at]:02x} is not {encoding}; allowed: {encoding} text (save the file as "
        "'CSV UTF-8', or name its encoding in the mapping, such as encoding = \"windows-1252\")",
    )  # fmt: skip


def _malformed(path: Path, mapping: LogMapping) -> LogError | None:
    """The first CSV record with more fields than the header, or with broken quoting."""
    utf8 = codecs.lookup(mapping.encoding).name == "utf-8"
    encoding, separator = "utf-8-sig" if utf8 else mapping.encoding, mapping.separator
    with path.open(encoding=encoding, errors="replace", newline="") as file:
        records = csv.reader(file, delimiter=separator, strict=True)
        try:
            width = len(next(records, []))
            for number, record in enumerate(records, start=2):
                if len(record) > width:
                    return LogError(
                        path.name, f"row {number}", None, f"{len(record)} fields where the "
                        f"header has {width}; allowed: at most {width} (quote a value that "
                        f"holds '{separator}')",
                    )  # fmt: skip
        except csv.Error as exc:
            return LogError(path.name, f"line {records.line_num}", None, f"malformed CSV: {exc}")
    return None


def _columns(path: Path, mapping: LogMapping, schema: pl.Schema) -> dict[str, str]:
    """Mapping key -> the file's column for every key read; refuses columns that are missing."""
    names = [name for name in schema.names() if name != "row"]
    wanted = {key: getattr(mapping, key) for key in ("case", "activity", "timestamp",
              "start_timestamp", *_OPTIONAL)}  # fmt: skip
    for key in _OPTIONAL:
        paired = key == "lifecycle" and mapping.start_timestamp is not None
        if wanted[key] is None and key in names and not paired:
            wanted[key] = key
    columns = {key: source for key, source in wanted.items() if source is not None}
    missing = {key: source for key, source in columns.items() if source not in names}
    header = "row 1" if _kind(path) == "csv" else ""
    if missing:
        shown = ", ".join(f"'{source}'" for source in missing.values())
        found = ", ".join(f"'{name}'" for name in names) or "no columns"
        raise LogError(
            path.name, header, ", ".join(missing), f"no column {shown}; the file has: {found}"
        )
    twice = [key for key, source in columns.items() if f"{source}_duplicated_0" in names]
    if twice:
        raise LogError(
            path.name, header, twice[0], f"the header names '{columns[twice[0]]}' more than "
            "once; allowed: one column of each name the mapping uses",
        )  # fmt: skip
    for key in columns:
        dtype = schema[columns[key]]
        if key.endswith("timestamp") and not (dtype == pl.String or dtype.is_temporal()):
            raise LogError(
                path.name, "", columns[key], f"holds {dtype}, not times; allowed: text in the "
                "timestamp_format, or a date/datetime column"
            )  # fmt: skip
    return columns


def _cells(
    columns: dict[str, str], schema: pl.Schema, mapping: LogMapping, *, trim: bool
) -> list[pl.Expr]:
    """The mapped columns as read: text (trimmed when ``trim``; blank as null), times (text
    times still as text), and for each time column whether its cell holds anything."""
    cells = [pl.col("row").cast(pl.Int64)]
    for key, source in columns.items():
        column, dtype = pl.col(source), schema[source]
        if key not in _TIMES:
            cells.append(_blank(column.cast(pl.String), trim=trim).alias(_TEXT_KEYS[key]))
            continue
        text = _blank(column, trim=True)
        given = text.is_not_null() if dtype == pl.String else column.is_not_null()
        time = text if dtype == pl.String else column_times(
            column, dtype, pattern=mapping.timestamp_format, zone=mapping.time_zone
        )  # fmt: skip
        cells += [time.alias(key), given.alias(f"{key}_given")]
    return cells


def _blank(text: pl.Expr, *, trim: bool) -> pl.Expr:
    """``text`` (stripped when ``trim``), with empty values as null."""
    kept = text.str.strip_chars() if trim else text
    return pl.when(kept.str.len_bytes() > 0).then(kept)


def _check(
    path: Path, mapping: LogMapping, frame: pl.DataFrame, columns: dict[str, str],
    scan: pl.LazyFrame,
) -> None:  # fmt: skip
    """Refuse the log at its first bad row: blank case or activity, bad or missing times."""
    checks = [  # (problem, mapping key, the rows that have it)
        ("empty", "case", pl.col("case").is_null()),
        ("empty", "activity", pl.col("activity").is_null()),
        ("empty", "timestamp", ~pl.col("timestamp_given")),
        ("unread", "timestamp", pl.col("timestamp").is_null() & pl.col("timestamp_given")),
    ]
    if "start_timestamp" in columns:
        start = pl.col("start_timestamp")
        checks += [
            ("unread", "start_timestamp", start.is_null() & pl.col("start_timestamp_given")),
            ("late", "start_timestamp", start > pl.col("timestamp")),
        ]
    flags = {f"{problem} {key}": rows for problem, key, rows in checks}
    bad = frame.select("row", **flags).filter(pl.any_horizontal(list(flags)))
    if bad.is_empty():
        return
    first = bad.row(0, named=True)
    problem, key, _ = next(check for check in checks if first[f"{check[0]} {check[1]}"])
    count = int(bad[f"{problem} {key}"].sum())
    more = f" (and {count - 1} more row{'s' * (count > 2)} like it)" if count > 1 else ""
    value = _cell(path, mapping, scan, first["row"], columns[key])
    if scan.collect_schema()[columns[key]].is_temporal():  # a timestamp column: as ISO text
        mapping = mapping.model_copy(update={"timestamp_format": ISO})
    raise LogError(
        path.name, f"row {first['row']}", columns[key],
        _message(problem, key, value, mapping) + more,
    )  # fmt: skip


def _cell(path: Path, mapping: LogMapping, scan: pl.LazyFrame, row: int, column: str) -> str:
    """The text of one cell, for a message."""
    value = _guard(path, mapping, scan.filter(pl.col("row") == row).select(column).collect)
    return str(value.item())


def _message(problem: str, key: str, value: str, mapping: LogMapping) -> str:
    """What is wrong with ``value`` and what is allowed."""
    pattern, zone = mapping.timestamp_format, mapping.time_zone
    wanted = (
        "ISO 8601, such as 2024-03-01T08:15:00+01:00 or 2024-03-01 08:15"
        if pattern == ISO
        else f"the format {pattern}"
    )
    if problem == "empty":
        return f"empty {key}; allowed: " + ("any text" if key in _TEXT_KEYS else wanted)
    if problem == "late":
        return f"'{value}' is after the row's timestamp; allowed: a start at or before it"
    if text_times(pl.Series([value]), pattern=pattern, zone="UTC").item() is not None:
        return f"'{value}' never happens in {zone} (the clocks skip it)"
    return f"'{value}' is not a time; allowed: {wanted}"


def _raw(frame: pl.DataFrame) -> pl.DataFrame:
    """The raw log frame: one event per row, or a start and a complete event per row with both."""
    lifecycle = (
        pl.col("lifecycle").str.to_lowercase() if "lifecycle" in frame.columns else pl.lit(None)
    )
    columns = [
        pl.col("case"), pl.col("activity"), pl.col("timestamp").alias("at"),
        lifecycle.alias("lifecycle"),
        *(pl.col(name) if name in frame.columns else pl.lit(None).alias(name)
          for name in ("resource", "org")),
        pl.col("row"),
    ]  # fmt: skip
    if "start_timestamp" not in frame.columns:
        return frame.select(columns).cast(RAW_SCHEMA)  # type: ignore[arg-type]
    done = frame.select(columns).with_columns(lifecycle=pl.lit("complete"), order=pl.lit(1))
    starts = frame.filter(pl.col("start_timestamp").is_not_null()).select(columns)
    starts = starts.with_columns(
        at=frame["start_timestamp"].drop_nulls(), lifecycle=pl.lit("start"), order=pl.lit(0)
    )
    both = pl.concat([starts.cast(done.schema), done]).sort("row", "order")
    return both.drop("order").cast(RAW_SCHEMA)  # type: ignore[arg-type]


def flat_log(events: pl.DataFrame) -> pl.DataFrame:
    """A Boflyt event frame as the flat log :func:`write_table` writes (times tz-aware, UTC).

    One row per ``step_started`` (lifecycle ``start``) and ``step_completed`` (``complete``)
    event, in the frame's order; the organisation is the step's lane (the actor's organisation
    when the event has no lane).
    """
    started = pl.col("kind") == EventKind.STEP_STARTED.value
    kinds = [EventKind.STEP_STARTED.value, EventKind.STEP_COMPLETED.value]
    return events.filter(pl.col("kind").is_in(kinds)).select(
        pl.col("case_id").alias("case"),
        pl.col("step").alias("activity"),
        pl.col("at").dt.replace_time_zone("UTC").alias("timestamp"),
        pl.when(started).then(pl.lit("start")).otherwise(pl.lit("complete")).alias("lifecycle"),
        pl.col("actor").alias("resource"),
        pl.coalesce("lane", "org").alias("organisation"),
        pl.col("process"),
        pl.col("version"),
    )


def write_table(
    events: pl.DataFrame, path: Path, *, format: Literal["csv", "parquet"] | None = None
) -> int:
    """Write the Boflyt event frame ``events`` to ``path`` as a flat CSV or Parquet log.

    ``format`` defaults to the suffix of ``path``. CSV times are ISO 8601 in UTC
    (:data:`ISO_FORMAT`); Parquet times are UTC timestamps and the repeated text columns
    are dictionary-encoded (categorical). Returns the number of rows (events) written.

    Raises:
        CommandError: no format given and ``path`` ends in neither ``.csv`` nor ``.parquet``.
    """
    kind = format or _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise CommandError(f"{path.name}: write .csv or .parquet, or give the format")
    table = flat_log(events)
    if kind == "csv":
        table.with_columns(pl.col("timestamp").dt.to_string(ISO_FORMAT)).write_csv(path)
    else:
        repeated = ("activity", "lifecycle", "resource", "organisation", "process")
        table.with_columns(pl.col(repeated).cast(pl.Categorical)).write_parquet(path)
    return table.height
