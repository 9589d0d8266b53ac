"""The XES reader's fast path: the layout nearly every tool writes, read column at a time.

Most XES files put one element on a line and write each attribute as
``<string key="…" value="…"/>``. Such a file is read here in blocks of whole traces (about
8 MiB of text each): polars splits a block into lines, and each line is classified and checked
by column expressions, never by a Python loop over elements. Two blocks are parsed at once, in
threads, while a third thread inflates the next (zlib and polars let go of the GIL). The
head — everything up to the first ``<trace>`` line: declaration, extensions, globals,
classifiers, the log's own attributes — is parsed by expat, so malformed XML there is found
with its line and column.

The line path accepts a line only if it is blank, ``<trace>``, ``</trace>``, ``<event>``,
``</event>``, the closing ``</log>``, or a value attribute ``<T key="K" value="V"/>`` (T one of
string, date, int, float, boolean, id; K and V free of ``<``, control characters and entities
other than the five XML ones), and the lines nest as XES nests (attributes directly in a trace
or an event, events in traces, traces in the log, ``</log>`` last). Those lines are well-formed
XML by construction. Any other line raises :class:`NotLines`, and the reader starts again on
the element path (expat over the whole file), which reads every well-formed layout and locates
any malformation.
"""

from __future__ import annotations

import pyexpat
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from boflyt.formats.log_frame import LogError, Progress

__all__ = [
    "ACTIVITY",
    "GROUP",
    "LIFECYCLE",
    "RESOURCE",
    "TIME",
    "VALUE_TYPES",
    "NotLines",
    "chunks",
    "read_lines",
    "xml_error",
]

ACTIVITY, TIME, LIFECYCLE = "concept:name", "time:timestamp", "lifecycle:transition"
RESOURCE, GROUP = "org:resource", "org:group"
VALUE_TYPES = frozenset({"string", "date", "int", "float", "boolean", "id"})
"""The XES attribute elements that carry a ``value`` (lists and containers carry none)."""

_READ = 1 << 20
"""Bytes read from the file at a time (compressed bytes for a .gz file)."""
_BLOCK = 1 << 23
"""Bytes of XML text gathered before a block (cut after its last ``</trace>`` line) is read."""
_LARGEST = 8 * _BLOCK
"""Bytes gathered without a place to cut a block after which the line path gives up."""
_WORKERS = 2
"""Blocks parsed at once, each in a thread (polars lets go of the GIL, so they use two cores)."""
_UTF8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_ENTITIES = ["&lt;", "&gt;", "&quot;", "&apos;", "&amp;"]
_CHARACTERS = ["<", ">", '"', "'", "&"]
_TEXT = r'(?:[^"<&\x00-\x1f]|&(?:amp|lt|gt|quot|apos);)*'
_LINE = (
    rf'^[ \t]*(?:</?(?:trace|event)>|</log>|<(?:{"|".join(sorted(VALUE_TYPES))}) key="{_TEXT}" '
    rf'value="{_TEXT}" */>)?$'
)
"""A line the line layout allows: blank, a trace or event tag, ``</log>`` or a value attribute."""
_ENDINGS = {"<trace>": 1, "</trace>": 2, "<event>": 3, "</event>": 4, "/>": 5, "</log>": 6}
"""How a line that :data:`_LINE` allows ends, and its kind (0 when it is blank)."""


class NotLines(Exception):
    """The file is not in the line layout: read it element by element instead."""


def chunks(path: Path, progress: Progress | None) -> Iterator[bytes]:
    """The file's bytes, inflated when it is gzip (several members allowed), piece by piece.

    Raises:
        LogError: The gzip stream is corrupt or ends early (a truncated file).
    """
    total, done = path.stat().st_size, 0
    with path.open("rb") as file:
        gzipped = file.read(2) == b"\x1f\x8b"
        file.seek(0)
        inflate, fresh = zlib.decompressobj(31), True
        while raw := file.read(_READ):
            done += len(raw)
            if not gzipped:
                yield raw
            while gzipped and raw:
                try:
                    yield inflate.decompress(raw)
                except zlib.error as exc:
                    raise LogError(path.name, f"byte {done}", None, f"not gzip: {exc}") from None
                fresh, raw = False, b""
                if inflate.eof:
                    raw, inflate, fresh = inflate.unused_data, zlib.decompressobj(31), True
            if progress is not None:
                progress(done, total)
        if gzipped and not fresh:
            raise LogError(path.name, "", None, "the gzip stream ends early: the file is cut off")


def xml_error(source: str, exc: pyexpat.ExpatError) -> LogError:
    """The :class:`LogError` for malformed XML, at expat's line and column (counted from 1)."""
    where = f"line {exc.lineno}, column {exc.offset + 1}"
    return LogError(source, where, None, f"malformed XML: {pyexpat.ErrorString(exc.code)}")


def read_lines(
    path: Path, keys: tuple[str, ...], progress: Progress | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The events (trace, line, one column per key) and traces (trace, line, name) of a file
    in the line layout.

    Raises:
        NotLines: The file is in another layout (or is malformed after its head).
        LogError: The head is malformed XML, or the gzip stream is broken.
    """
    reached: list[tuple[int, int | None]] = [(0, None)]
    inflated = chunks(path, lambda done, total: reached.__setitem__(0, (done, total)))
    parts: list[tuple[pl.DataFrame, pl.DataFrame]] = []
    lines_before = 0
    with ThreadPoolExecutor(_WORKERS) as pool:
        pending: deque[Future[tuple[pl.DataFrame, pl.DataFrame]]] = deque()
        for block, final in _ahead(_blocks(inflated)):
            count = block.count(b"\n")
            at = (lines_before, count)
            pending.append(pool.submit(_block, block, keys, final, at, path.name))
            lines_before += count
            if len(pending) >= _WORKERS:
                parts.append(pending.popleft().result())
                if progress is not None:
                    progress(*reached[0])
        parts.extend(part.result() for part in pending)
    if progress is not None:
        progress(*reached[0])
    return _joined(parts)


def _block(
    block: bytes, keys: tuple[str, ...], final: bool, at: tuple[int, int], source: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The events and traces of one block, trace numbers counted from 0 in the block; ``at``
    is the lines before the block and the block's own (counted once, by the caller)."""
    lines_before, count = at
    lines = _lines(block)
    if not final and lines.height != count:
        raise NotLines
    if lines_before == 0:
        lines = _after_head(lines, source)
    return _read_block(lines, keys, final, lines_before)


def _joined(parts: list[tuple[pl.DataFrame, pl.DataFrame]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The blocks' events and traces as one, trace numbers counted over the whole file."""
    before = 0
    found, traces = [], []
    for events, trace_rows in parts:
        found.append(events.with_columns(pl.col("trace") + before))
        traces.append(trace_rows.with_columns(pl.col("trace") + before))
        before += trace_rows.height
    return pl.concat(found), pl.concat(traces)


def _ahead(blocks: Iterator[tuple[bytes, bool]]) -> Iterator[tuple[bytes, bool]]:
    """The blocks, the next one read and inflated in a thread while this one is parsed (zlib
    and polars let go of the GIL, so the two overlap on a second core)."""
    with ThreadPoolExecutor(1) as pool:
        upcoming = pool.submit(next, blocks, None)
        while (block := upcoming.result()) is not None:
            upcoming = pool.submit(next, blocks, None)
            yield block


def _blocks(pieces: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Blocks of whole lines, each (but the last) ending with a ``</trace>`` line.

    Raises:
        NotLines: No block can be cut within :data:`_LARGEST` bytes (one line, or one trace,
            that big): the element path reads such a file in bounded memory.
    """
    pending: list[bytes] = []
    size, closing = 0, False
    for piece in pieces:
        seam = pending[-1][-8:] + piece[:8] if pending else b""
        closing = closing or b"</trace>" in piece or b"</trace>" in seam
        pending.append(piece)
        size += len(piece)
        if size >= _BLOCK and closing:
            data = b"".join(pending)
            cut = data.find(b"\n", data.rfind(b"</trace>")) + 1
            if cut > 0:
                yield data[:cut], False
                data = data[cut:]
            pending, size, closing = [data], len(data), False
        if size > _LARGEST:
            raise NotLines
    yield b"".join(pending), True


def _lines(block: bytes) -> pl.DataFrame:
    """The block's lines (``n`` counted from 0, ``text`` null when empty)."""
    if not block.strip() or b"\x01" in block:
        raise NotLines
    try:
        lines = pl.read_csv(
            block, has_header=False, separator="\x01", quote_char=None,
            new_columns=["text"], schema_overrides={"text": pl.String()}, infer_schema=False,
        )  # fmt: skip
    except pl.exceptions.PolarsError:
        raise NotLines from None
    return lines.with_row_index("n")


def _after_head(lines: pl.DataFrame, source: str) -> pl.DataFrame:
    """The lines from the first ``<trace>`` on, once expat has checked the head up to it."""
    text = pl.col("text")
    ending = lines.filter(text.str.ends_with("<trace>"))  # one line per trace: few to strip
    first = ending.filter(text.str.strip_chars(" \t") == "<trace>")["n"]
    if first.is_empty():
        raise NotLines
    start = int(first[0])
    _check_head(lines["text"][: start + 1].fill_null("").str.join("\n")[0] + "\n", source)
    return lines.slice(start)


def _check_head(text: str, source: str) -> None:
    """Parse the head (up to the first trace's start tag) and check it leads into that trace."""
    parser: Any = pyexpat.ParserCreate()
    stack: list[str] = []
    found: list[str] = []
    plain = [True]

    def start(name: str, attributes: dict[str, str]) -> None:
        stack.append(name)
        if name in ("trace", "event"):
            found.append(name)

    def declaration(version: str, encoding: str | None, standalone: int) -> None:
        plain[0] = plain[0] and (encoding is None or encoding.lower() in _UTF8)

    def doctype(*args: object) -> None:
        plain[0] = False

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: stack.pop()
    parser.XmlDeclHandler = declaration
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(text.encode(), False)
    except pyexpat.ExpatError as exc:
        raise xml_error(source, exc) from None
    if not plain[0] or stack != ["log", "trace"] or found != ["trace"]:
        raise NotLines


def _read_block(
    lines: pl.DataFrame, keys: tuple[str, ...], final: bool, lines_before: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The events and traces of a block of whole traces, once its lines pass the layout."""
    frame = _classify(lines)
    _check_nesting(frame, final)
    kind = pl.col("kind")
    frame = frame.with_columns(
        trace=(kind == 1).cum_sum().cast(pl.Int64) - 1,
        event=(kind == 3).cum_sum().cast(pl.Int64) - 1,
    )
    pairs = _pairs(frame.filter(kind == 5))
    value, key = pl.col("value"), pl.col("key")
    values = (
        pairs.filter(pl.col("depth") == 2)
        .with_columns(pl.when(key == name).then(value).alias(name) for name in keys)
        .group_by("event", maintain_order=True)
        .agg(pl.col(name).drop_nulls().first() for name in keys)
    )
    events = (
        frame.filter(kind == 3)
        .select("event", "trace", (pl.col("n").cast(pl.Int64) + lines_before + 1).alias("line"))
        .join(values, on="event", how="left", maintain_order="left")
        .select("trace", "line", *keys)
    )
    names = (
        pairs.filter((pl.col("depth") == 1) & (key == ACTIVITY))
        .unique("trace", keep="first", maintain_order=True)
        .select("trace", value.alias("name"))
    )
    traces = (
        frame.filter(kind == 1)
        .select("trace", (pl.col("n").cast(pl.Int64) + lines_before + 1).alias("line"))
        .join(names, on="trace", how="left", maintain_order="left")
    )
    return events, traces


def _classify(lines: pl.DataFrame) -> pl.DataFrame:
    """Each line's kind (0 blank, 1 ``<trace>``, 2 ``</trace>``, 3 ``<event>``, 4 ``</event>``,
    5 a value attribute, 6 ``</log>``) and the depth before it (0 in the log, 1 in a trace, 2 in
    an event). Once :data:`_LINE` has passed a line, its ending tells its kind.

    Raises:
        NotLines: A line is none of the kinds the line layout allows.
    """
    text = pl.col("text")
    if not lines.select(text.str.contains(_LINE).fill_null(value=True).all()).item():
        raise NotLines
    kind = sum(text.str.ends_with(ending).cast(pl.Int8) * code for ending, code in _ENDINGS.items())
    kinds = pl.col("kind")
    delta = kinds.is_in([1, 3]).cast(pl.Int32) - kinds.is_in([2, 4]).cast(pl.Int32)
    return (
        lines.select("n", "text", pl.lit(0, pl.Int8).add(kind).fill_null(0).alias("kind"))
        .with_columns(delta=delta)
        .with_columns(depth=pl.col("delta").cum_sum() - pl.col("delta"))
    )


def _pairs(attributes: pl.DataFrame) -> pl.DataFrame:
    """The key and value of each value-attribute line (its text split at the quotes, which
    :data:`_LINE` allows only around them), with the XML entities replaced."""
    parts = pl.col("text").str.split_exact('"', 4).struct.field
    key, value = parts("field_1"), parts("field_3")
    if attributes.select(pl.col("text").str.contains("&", literal=True).any()).item():
        key = key.str.replace_many(_ENTITIES, _CHARACTERS)
        value = value.str.replace_many(_ENTITIES, _CHARACTERS)
    return attributes.select("trace", "event", "depth", key.alias("key"), value.alias("value"))


def _check_nesting(frame: pl.DataFrame, final: bool) -> None:
    """Raise :class:`NotLines` unless the lines nest as XES nests (see the module's text)."""
    kind, depth = pl.col("kind"), pl.col("depth")
    allowed = (
        (kind == 0)
        | (kind.is_in([1, 6]) & (depth == 0))
        | (kind.is_in([2, 3]) & (depth == 1))
        | ((kind == 4) & (depth == 2))
        | ((kind == 5) & depth.is_in([1, 2]))
    )
    closing = frame.filter(kind != 0).select(kind.last() == 6).item() if final else False
    check = frame.select(
        allowed.all().alias("allowed"),
        (kind == 6).sum().alias("ends"),
        pl.col("delta").sum().alias("depth"),
    ).row(0)
    if check != (True, 1 if final else 0, 0) or (final and not closing):
        raise NotLines
