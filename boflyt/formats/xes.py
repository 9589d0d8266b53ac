"""XES event logs (IEEE 1849): any well-formed log read into the raw log frame.

:func:`read_xes` reads a plain or gzip-compressed XES file into the raw log frame of
:mod:`boflyt.formats.log_frame`, taking the standard attributes without a mapping: the event's
``concept:name`` (activity), ``time:timestamp``, ``lifecycle:transition``, ``org:resource`` and
``org:group``, and the trace's ``concept:name`` (case). Only attributes that stand directly in
an event (or, for the case, in a trace) count: nested attributes, lists, containers, globals,
classifiers, extensions and the log's own (meta) attributes are read past.

Two paths give the same frame. The *line path* (:mod:`boflyt.formats.xes_lines`) handles the
layout nearly every tool writes — one element per line, each attribute as
``<string key="…" value="…"/>`` — with polars, column at a time, which is what makes a
million-event log take seconds. A file in any other layout (comments among the traces, several
elements on a line, nested event attributes, other entities, another encoding, a DTD, …) is read
by the *element path* here: expat with handlers, slower, which reads any well-formed XML and says
where malformed XML breaks (line and column). Both paths end in :func:`assemble`, which checks
the events and builds the frame, so both refuse the same logs with the same messages.
"""

from __future__ import annotations

import gzip
import io
import os
import pyexpat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from boflyt.formats.log_frame import RAW_SCHEMA, LogError, Progress, empty_raw_frame
from boflyt.formats.log_times import ISO, text_times
from boflyt.formats.xes_lines import (
    ACTIVITY,
    GROUP,
    LIFECYCLE,
    RESOURCE,
    TIME,
    VALUE_TYPES,
    NotLines,
    chunks,
    read_lines,
    xml_error,
)
from boflyt.models.vocabulary import EventKind

__all__ = ["TRANSITIONS", "read_xes", "write_xes"]

_STANDARD = (ACTIVITY, TIME, LIFECYCLE, RESOURCE, GROUP)
TRANSITIONS = {
    EventKind.STEP_READY.value: "schedule",
    EventKind.STEP_STARTED.value: "start",
    EventKind.STEP_COMPLETED.value: "complete",
}
"""The event kinds :func:`write_xes` writes, and their ``lifecycle:transition`` (standard model)."""
_ESCAPES = (
    ["&", "<", ">", '"', "\t", "\n", "\r"],
    ["&amp;", "&lt;", "&gt;", "&quot;", "&#9;", "&#10;", "&#13;"],
)
_BATCH = 250_000
"""Events turned into XML text at a time by :func:`write_xes`."""
_EXTENSIONS = (
    ("Concept", "concept"), ("Time", "time"), ("Lifecycle", "lifecycle"), ("Organizational", "org")
)  # fmt: skip


def read_xes(
    path: Path, *, organisation: str | None = None, progress: Progress | None = None
) -> pl.DataFrame:
    """Read an XES log (plain or gzip-compressed) into the raw log frame.

    Args:
        path: The ``.xes`` or ``.xes.gz`` file (gzip is recognised by its first bytes).
        organisation: The event attribute that names the organisation (lane); None takes
            ``org:group`` when any event has it, else ``org:resource``.
        progress: Told (bytes done, total bytes) as the file is read; compressed bytes for gzip.

    Returns:
        One row per event in the file's order, with the columns of
        :data:`~boflyt.formats.log_frame.RAW_SCHEMA`; ``at`` is naive UTC (a timestamp without
        offset is taken as UTC), ``lifecycle`` lower case or null, ``row`` the line of the
        ``<event>``.

    Raises:
        LogError: The file is not gzip or XML that can be read (with the line and column of
            malformed XML), not an XES log, has an event outside a trace, a trace without
            ``concept:name``, an event without ``concept:name`` or ``time:timestamp``, a
            timestamp that is not an xs:dateTime, or no event with ``organisation``. Nothing
            is returned in part.

    >>> import tempfile
    >>> log = Path(tempfile.mkdtemp()) / "tiny.xes"
    >>> _ = log.write_text('''<?xml version="1.0" encoding="UTF-8"?>
    ... <log xes.version="1.0" xmlns="http://www.xes-standard.org/">
    ...   <trace>
    ...     <string key="concept:name" value="case 1"/>
    ...     <event>
    ...       <string key="concept:name" value="Register"/>
    ...       <date key="time:timestamp" value="2024-03-01T09:30:00.000+01:00"/>
    ...       <string key="org:group" value="Front office"/>
    ...     </event>
    ...   </trace>
    ... </log>
    ... ''')
    >>> read_xes(log).row(0)
    ('case 1', 'Register', datetime.datetime(2024, 3, 1, 8, 30), None, None, 'Front office', 5)
    """
    keys = _wanted_keys(organisation)
    try:
        found, traces = read_lines(path, keys, progress)
    except NotLines:
        found, traces = _read_elements(path, keys, progress)
    return _assemble(found, traces, source=path.name, organisation=organisation)


def _wanted_keys(organisation: str | None) -> tuple[str, ...]:
    """The event attributes a reader collects: the standard ones and the organisation's."""
    extra = () if organisation is None or organisation in _STANDARD else (organisation,)
    return (*_STANDARD, *extra)


class _Elements:
    """Expat handlers that collect, from any well-formed XES, what the raw frame needs."""

    def __init__(self, parser: Any, keys: tuple[str, ...], source: str) -> None:
        self.parser, self.keys, self.source = parser, keys, source
        self.stack: list[str] = []
        self.event_traces: list[int] = []
        self.event_lines: list[int] = []
        self.event_values: list[dict[str, str]] = []
        self.trace_lines: list[int] = []
        self.trace_names: dict[int, str] = {}

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local, depth = name.rpartition(" ")[2], len(self.stack)
        line = self.parser.CurrentLineNumber
        if depth == 0 and local != "log":
            self._refuse(line, f"the root element is <{local}>, not <log>: not an XES log")
        if local == "event":
            if self.stack[1:] != ["trace"]:
                self._refuse(line, "an event outside a trace: each <event> stands in a <trace>")
            self.event_traces.append(len(self.trace_lines) - 1)
            self.event_lines.append(line)
            self.event_values.append({})
        elif local == "trace":
            if depth != 1:
                self._refuse(line, "a trace outside the log: each <trace> stands in the <log>")
            self.trace_lines.append(line)
        elif local in VALUE_TYPES and "value" in attributes:
            self._attribute(depth, attributes.get("key", ""), attributes["value"])
        self.stack.append(local)

    def _attribute(self, depth: int, key: str, value: str) -> None:
        if depth == 3 and self.stack[1:] == ["trace", "event"] and key in self.keys:
            self.event_values[-1].setdefault(key, value)
        elif depth == 2 and self.stack[1] == "trace" and key == ACTIVITY:
            self.trace_names.setdefault(len(self.trace_lines) - 1, value)

    def end(self, name: str) -> None:
        self.stack.pop()

    def _refuse(self, line: int, message: str) -> None:
        raise LogError(self.source, f"line {line}", None, message)

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The events (trace, line, one column per key) and traces (trace, line, name)."""
        values = {key: [found.get(key) for found in self.event_values] for key in self.keys}
        found = pl.DataFrame(
            {"trace": self.event_traces, "line": self.event_lines, **values},
            schema={"trace": pl.Int64(), "line": pl.Int64(), **dict.fromkeys(values, pl.String())},
        )
        count = len(self.trace_lines)
        traces = pl.DataFrame(
            {"trace": range(count), "line": self.trace_lines,
             "name": [self.trace_names.get(trace) for trace in range(count)]},
            schema={"trace": pl.Int64(), "line": pl.Int64(), "name": pl.String()},
        )  # fmt: skip
        return found, traces


def _read_elements(
    path: Path, keys: tuple[str, ...], progress: Progress | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The element path: expat over the whole file, for any layout."""
    parser = pyexpat.ParserCreate(namespace_separator=" ")
    elements = _Elements(parser, keys, path.name)
    parser.StartElementHandler = elements.start
    parser.EndElementHandler = elements.end
    try:
        for piece in chunks(path, progress):
            parser.Parse(piece, False)
        parser.Parse(b"", True)
    except pyexpat.ExpatError as exc:
        raise xml_error(path.name, exc) from None
    return elements.frames()


def _assemble(
    found: pl.DataFrame, traces: pl.DataFrame, *, source: str, organisation: str | None
) -> pl.DataFrame:
    """The raw log frame from what a path found, or the first problem by line.

    Args:
        found: One row per event: ``trace`` (index), ``line``, and one string column per key
            of :func:`_wanted_keys`, null where the event lacks it.
        traces: One row per trace: ``trace``, ``line``, ``name`` (its concept:name or null).
        source: The file's name, for messages.
        organisation: As for :func:`read_xes`.

    Raises:
        LogError: At the earliest line with a problem (see :func:`read_xes`).
    """
    at = text_times(found[TIME], pattern=ISO, zone="UTC")
    problems = [
        *_first(traces.filter(pl.col("name").is_null()), ACTIVITY, "the trace has no case id"),
        *_first(found.filter(pl.col(ACTIVITY).is_null()), ACTIVITY, "the event has no activity"),
        *_first(found.filter(pl.col(TIME).is_null()), TIME, "the event has no time"),
        *_bad_times(found.filter(at.is_null() & pl.col(TIME).is_not_null())),
    ]
    if problems:
        line, field, message = min(problems)
        raise LogError(source, f"line {line}", field, message)
    if found.is_empty():
        return empty_raw_frame()
    org = _organisation(found, organisation, source)
    return (
        found.with_columns(at=at, case=traces["name"].gather(found["trace"]))
        .select(
            "case",
            pl.col(ACTIVITY).alias("activity"),
            "at",
            pl.col(LIFECYCLE).str.to_lowercase().alias("lifecycle"),
            pl.col(RESOURCE).alias("resource"),
            pl.col(org).alias("org"),
            pl.col("line").alias("row"),
        )
        .cast(RAW_SCHEMA)  # type: ignore[arg-type]
    )


def _first(rows: pl.DataFrame, field: str, message: str) -> list[tuple[int, str, str]]:
    """The first of ``rows`` as a problem (line, field, message), saying how many more."""
    if rows.is_empty():
        return []
    more = f" ({rows.height - 1} more like it)" if rows.height > 1 else ""
    return [(int(rows["line"][0]), field, f"{message}{more}")]


def _bad_times(rows: pl.DataFrame) -> list[tuple[int, str, str]]:
    if rows.is_empty():
        return []
    value = rows[TIME][0]
    allowed = "an xs:dateTime such as 2024-03-01T09:30:00.000+01:00"
    return _first(rows, TIME, f"{value!r} is not a date and time; allowed: {allowed}")


def _organisation(found: pl.DataFrame, organisation: str | None, source: str) -> str:
    """The column that names the organisation (lane)."""
    if organisation is None:
        return GROUP if found[GROUP].is_not_null().any() else RESOURCE
    if found[organisation].is_null().all():
        message = "no event has this attribute, so it cannot name the organisation (lane)"
        raise LogError(source, "", organisation, message)
    return organisation


def write_xes(events: pl.DataFrame, path: Path, *, progress: Progress | None = None) -> int:
    """Write Boflyt's work steps as XES (IEEE 1849-2023), gzip-compressed when ``path`` ends .gz.

    One trace per case, in the order cases first appear, with ``concept:name`` (the case id),
    ``process`` and ``version``; per step event, in ``seq`` order: ``concept:name`` (the step
    id), ``lifecycle:transition`` (``step_ready`` → ``schedule``, ``step_started`` → ``start``,
    ``step_completed`` → ``complete``: see :data:`TRANSITIONS`), ``time:timestamp`` (UTC, to
    the millisecond, offset ``+00:00``), ``org:resource`` (the actor, as given: the export
    pseudonymises before) and ``org:group`` (the step's lane), the last two left out when
    null. The Concept, Time, Lifecycle and Organizational extensions are declared, with
    globals for the attributes every event carries and classifiers on them. The file appears
    whole or not at all (written beside it, then renamed).

    Args:
        events: An event frame (:data:`~boflyt.engine.store.frame.FRAME_SCHEMA`).
        path: The file to write.
        progress: Told (events written, events to write) after each batch.

    Returns:
        The number of XES events written.

    >>> import datetime as dt, tempfile
    >>> from boflyt.engine.store.frame import FRAME_SCHEMA
    >>> rows = [("c1", 1, "step_completed", dt.datetime(2024, 3, 1, 8, 30), "register",
    ...          "front", "p1", "nav", "housing", 1, "live")]
    >>> columns = ["case_id", "seq", "kind", "at", "step", "lane", "actor", "org", "process",
    ...            "version", "mode"]
    >>> frame = pl.DataFrame(rows, schema=columns, orient="row").cast(
    ...     {c: FRAME_SCHEMA[c] for c in columns})
    >>> log = Path(tempfile.mkdtemp()) / "out.xes"
    >>> write_xes(frame, log)
    1
    >>> read_xes(log).row(0)
    ('c1', 'register', datetime.datetime(2024, 3, 1, 8, 30), 'complete', 'p1', 'front', 28)
    """
    work = _work_steps(events)
    declared = [key for key, column in ((RESOURCE, "actor"), (GROUP, "lane"))
                if work[column].null_count() == 0]  # fmt: skip
    xml = _event_xml(_needs_escapes(work))
    partial = path.with_name(f"{path.name}.part")
    with _opened(partial, gzipped=path.name.endswith(".gz")) as out, ThreadPoolExecutor(1) as pool:
        written = pool.submit(out.write, _head(declared).encode())
        for start in range(0, work.height, _BATCH):
            text = work.slice(start, _BATCH).select(xml.str.join("")).item().encode()
            written.result()
            written = pool.submit(out.write, text)  # compressed while the next batch is built
            if progress is not None:
                progress(min(start + _BATCH, work.height), work.height)
        written.result()
        out.write(b"</log>\n")
    os.replace(partial, path)
    return work.height


def _opened(path: Path, *, gzipped: bool) -> io.BufferedIOBase:
    """The file to write, through gzip (level 3: near level 6's size at twice its speed)."""
    return gzip.open(path, "wb", compresslevel=3) if gzipped else path.open("wb")


def _work_steps(events: pl.DataFrame) -> pl.DataFrame:
    """The step events :func:`write_xes` writes: cases in order of first appearance, each
    case's events by ``seq``; ``opens``/``closes`` mark a case's first and last event."""
    case = pl.col("case_id")
    return (
        events.filter(pl.col("kind").is_in(list(TRANSITIONS)) & pl.col("step").is_not_null())
        .with_row_index("row")
        .with_columns(first=pl.col("row").min().over("case_id"))
        .sort("first", "seq", "row")
        .with_columns(opens=case.ne_missing(case.shift(1)), closes=case.ne_missing(case.shift(-1)))
    )


_TEXT_COLUMNS = ("case_id", "process", "version", "step", "actor", "lane")


def _needs_escapes(work: pl.DataFrame) -> frozenset[str]:
    """The text columns with a character XML must escape in an attribute value."""
    special = work.select(
        pl.col(column).cast(pl.String).str.contains(r'[&<>"\t\n\r]').any()
        for column in _TEXT_COLUMNS
    ).row(0)
    return frozenset(column for column, found in zip(_TEXT_COLUMNS, special, strict=True) if found)


def _escaped(column: str, escaping: frozenset[str]) -> pl.Expr:
    text = pl.col(column).cast(pl.String)
    return text.str.replace_many(*_ESCAPES) if column in escaping else text


def _attribute(kind: str, key: str, value: pl.Expr, indent: str = "\t\t\t") -> pl.Expr:
    """One attribute line; empty when the value is null."""
    start = pl.lit(f'{indent}<{kind} key="{key}" value="')
    return pl.concat_str(start, value, pl.lit('"/>\n')).fill_null("")


def _event_xml(escaping: frozenset[str]) -> pl.Expr:
    """Each event's XML text, opening its trace when it is the case's first, closing it when
    the case's last; ``escaping`` names the columns whose text needs escapes."""
    opening = pl.concat_str(
        pl.lit("\t<trace>\n"),
        *(_attribute("string", key, _escaped(column, escaping), "\t\t")
          for key, column in ((ACTIVITY, "case_id"), ("process", "process"),
                              ("version", "version"))),
    )  # fmt: skip
    stamp = pl.col("at").dt.strftime("%Y-%m-%dT%H:%M:%S%.3f+00:00")
    return pl.concat_str(
        pl.when(pl.col("opens")).then(opening).otherwise(pl.lit("")),
        pl.lit("\t\t<event>\n"),
        _attribute("string", ACTIVITY, _escaped("step", escaping)),
        _attribute("string", LIFECYCLE, pl.col("kind").replace_strict(TRANSITIONS)),
        _attribute("date", TIME, stamp),
        _attribute("string", RESOURCE, _escaped("actor", escaping)),
        _attribute("string", GROUP, _escaped("lane", escaping)),
        pl.lit("\t\t</event>\n"),
        pl.when(pl.col("closes")).then(pl.lit("\t</trace>\n")).otherwise(pl.lit("")),
    )  # fmt: skip


def _head(declared: list[str]) -> str:
    """The declaration and the log's head: extensions, globals, classifiers, its own name."""
    site = "http://www.xes-standard.org"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!-- Written by Boflyt: XES as IEEE 1849-2023 defines it -->",
        f'<log xes.version="2.0" xmlns="{site}/">',
        *(f'\t<extension name="{name}" prefix="{prefix}" uri="{site}/{prefix}.xesext"/>'
          for name, prefix in _EXTENSIONS),
        '\t<global scope="trace">',
        f'\t\t<string key="{ACTIVITY}" value="__INVALID__"/>',
        "\t</global>",
        '\t<global scope="event">',
        f'\t\t<string key="{ACTIVITY}" value="__INVALID__"/>',
        f'\t\t<string key="{LIFECYCLE}" value="complete"/>',
        f'\t\t<date key="{TIME}" value="1970-01-01T00:00:00.000+00:00"/>',
        *(f'\t\t<string key="{key}" value="__INVALID__"/>' for key in declared),
        "\t</global>",
        f'\t<classifier name="Activity" scope="event" keys="{ACTIVITY}"/>',
        f'\t<classifier name="Activity and transition" scope="event" '
        f'keys="{ACTIVITY} {LIFECYCLE}"/>',
        *(f'\t<classifier name="{key.split(":")[1].title()}" scope="event" keys="{key}"/>'
          for key in declared),
        f'\t<string key="{ACTIVITY}" value="Boflyt event log"/>',
        '\t<string key="lifecycle:model" value="standard"/>',
    ]  # fmt: skip
    return "\n".join(lines) + "\n"
