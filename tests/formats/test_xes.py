"""XES logs: any well-formed log read into the raw log frame, bad ones refused where they break,
and Boflyt's events written so that an independent reader (rustxes) reads them back."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import polars as pl
import pytest

from boflyt.engine.store.frame import FRAME_SCHEMA
from boflyt.formats import xes, xes_lines
from boflyt.formats.log_frame import RAW_SCHEMA, LogError
from boflyt.formats.xes import read_xes, write_xes

RECEIPT = Path(__file__).parents[2] / ".." / "shared" / "data" / "event-logs" / "receipt.xes.gz"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n'
)


def event(name: str = "Register", when: str = "2024-03-01T09:30:00.000+01:00", **more: str) -> str:
    """An event in the usual layout: one attribute per line."""
    pairs = {"concept:name": name, "time:timestamp": when, **more}
    lines = [f'    <string key="{key}" value="{value}"/>' for key, value in pairs.items()]
    return "  <event>\n" + "\n".join(lines) + "\n  </event>\n"


def trace(case: str, *events: str) -> str:
    return f'<trace>\n  <string key="concept:name" value="{case}"/>\n{"".join(events)}</trace>\n'


def write(tmp_path: Path, text: str, name: str = "log.xes") -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def both_paths(path: Path, organisation: str | None = None) -> pl.DataFrame:
    """read_xes, after checking the element path reads the file to the same frame."""
    found = read_xes(path, organisation=organisation)
    keys = xes._wanted_keys(organisation)
    events, traces = xes._read_elements(path, keys, None)
    by_elements = xes._assemble(events, traces, source=path.name, organisation=organisation)
    assert by_elements.equals(found)
    return found


def uses_line_path(path: Path) -> bool:
    try:
        xes_lines.read_lines(path, xes._wanted_keys(None), None)
    except xes_lines.NotLines:
        return False
    return True


# -- the receipt log ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def receipt() -> pl.DataFrame:
    return read_xes(RECEIPT)


def test_receipt_log_has_its_cases_and_events(receipt: pl.DataFrame) -> None:
    assert receipt.schema == pl.Schema(RAW_SCHEMA)
    assert receipt.height == 8577
    assert receipt["case"].n_unique() == 1434
    assert receipt["org"].n_unique() == 10  # org:group, the log has it
    assert receipt["resource"].n_unique() == 48
    assert set(receipt["lifecycle"].unique()) == {"complete"}
    assert receipt["row"].is_sorted() and receipt["row"].n_unique() == 8577


def test_receipt_log_equals_what_rustxes_reads(receipt: pl.DataFrame) -> None:
    rustxes = pytest.importorskip("rustxes")
    theirs, _ = rustxes.import_xes(str(RECEIPT))
    expected = theirs.select(
        pl.col("case:concept:name").alias("case"),
        pl.col("concept:name").alias("activity"),
        pl.col("time:timestamp").dt.cast_time_unit("us").dt.replace_time_zone(None).alias("at"),
    )
    assert receipt.select("case", "activity", "at").equals(expected)


def test_receipt_log_reads_the_same_element_by_element(receipt: pl.DataFrame) -> None:
    assert uses_line_path(RECEIPT)
    events, traces = xes._read_elements(RECEIPT, xes._wanted_keys(None), None)
    assert xes._assemble(events, traces, source="r", organisation=None).equals(receipt)


def test_progress_counts_compressed_bytes_up_to_the_file_size() -> None:
    told: list[tuple[int, int | None]] = []
    read_xes(RECEIPT, progress=lambda done, total: told.append((done, total)))
    size = RECEIPT.stat().st_size
    assert told[-1] == (size, size)
    assert [done for done, _ in told] == sorted(done for done, _ in told)


# -- what is read -------------------------------------------------------------------------------


def test_offsets_become_naive_utc_and_a_time_without_offset_is_utc(tmp_path: Path) -> None:
    times = ["2011-10-11T13:46:24.000+02:00", "2011-12-11T13:46:24.5+01:00",
             "2011-12-11T13:46:24Z", "2011-12-11T13:46:24.123456789-03:30",
             "2011-12-11T13:46:24"]  # fmt: skip
    path = write(tmp_path, HEAD + trace("c", *(event(when=t) for t in times)) + "</log>\n")
    assert both_paths(path)["at"].to_list() == [
        dt.datetime(2011, 10, 11, 11, 46, 24),
        dt.datetime(2011, 12, 11, 12, 46, 24, 500000),
        dt.datetime(2011, 12, 11, 13, 46, 24),
        dt.datetime(2011, 12, 11, 17, 16, 24, 123456),
        dt.datetime(2011, 12, 11, 13, 46, 24),
    ]


def test_lifecycle_is_lower_case_and_null_when_absent(tmp_path: Path) -> None:
    events = (event(**{"lifecycle:transition": "START"}), event())
    path = write(tmp_path, HEAD + trace("c", *events) + "</log>\n")
    assert both_paths(path)["lifecycle"].to_list() == ["start", None]


def test_organisation_is_org_group_else_org_resource_else_as_chosen(tmp_path: Path) -> None:
    first = event(**{"org:group": "G", "org:resource": "R", "unit": "U"})
    grouped = write(tmp_path, HEAD + trace("c", first, event()) + "</log>\n")
    assert both_paths(grouped)["org"].to_list() == ["G", None]
    assert both_paths(grouped, "unit")["org"].to_list() == ["U", None]
    assert both_paths(grouped, "org:resource")["org"].to_list() == ["R", None]
    alone = event(**{"org:resource": "R"})
    people = write(tmp_path, HEAD + trace("c", alone) + "</log>\n", "p.xes")
    assert both_paths(people)["org"].to_list() == ["R"]


OTHER_LAYOUT = """<?xml version='1.0' encoding='ISO-8859-1'?>
<!DOCTYPE log>
<xes:log xmlns:xes="http://www.xes-standard.org/" xes.version="2.0">
  <xes:extension name="Concept" prefix="concept"
    uri="http://www.xes-standard.org/concept.xesext"/>
  <xes:global scope="event"><xes:string key="concept:name" value="GLOBAL"/></xes:global>
  <xes:classifier name="Activity" keys="concept:name"/>
  <xes:string key="concept:name" value="the log's own name"/>
  <xes:list key="meta"><xes:values>
    <xes:string key="concept:name" value="LIST"/>
  </xes:values></xes:list>
  <!-- <trace><string key="concept:name" value="COMMENTED"/></trace> -->
  <xes:trace><xes:string value='c&amp;1' key='concept:name'/><xes:event
      ><xes:string key="concept:name" value="Caf\xe9 &lt;check&gt;">
        <xes:string key="concept:name" value="NESTED"/></xes:string>
    <xes:container key="box">
      <xes:date key="time:timestamp" value="1999-01-01T00:00:00Z"/></xes:container>
    <xes:date key="time:timestamp" value="2024-03-01T09:30:00+01:00"/><![CDATA[ <event/> ]]>
    <xes:int key="org:group" value="7"/><xes:boolean key="ok" value="true"/>
    <xes:float key="f" value="1.5"/><xes:id key="i" value="x"/>
  </xes:event></xes:trace>
</xes:log>
"""


def test_any_well_formed_layout_reads_the_direct_attributes_only(tmp_path: Path) -> None:
    path = tmp_path / "other.xes"
    path.write_bytes(OTHER_LAYOUT.encode("latin-1"))
    assert not uses_line_path(path)
    at = dt.datetime(2024, 3, 1, 8, 30)
    row = 13  # where <xes:event begins
    assert read_xes(path).rows() == [("c&1", "Café <check>", at, None, None, "7", row)]


def test_entities_comments_and_blank_lines_read_alike_on_both_paths(tmp_path: Path) -> None:
    head = HEAD + "<!-- made by hand -->\n\n"
    body = trace("a &amp; b", event("x &lt;1&gt; &quot;q&quot; &apos;"), "\n", event("y"))
    path = write(tmp_path, head + body + trace("c", "<!-- between -->\n", event()) + "</log>\n")
    found = both_paths(path)
    assert found["case"].to_list() == ["a & b", "a & b", "c"]
    assert found["activity"].to_list()[0] == 'x <1> "q" \''
    assert found["row"].to_list() == [7, 12, 20]
    assert not uses_line_path(path)  # a comment among the traces
    plain = write(tmp_path, head + body + "</log>\n", "plain.xes")
    assert uses_line_path(plain)
    assert both_paths(plain).equals(found.head(2))


def test_gzip_and_plain_read_alike(tmp_path: Path) -> None:
    text = HEAD + trace("c", event(), event("Check")) + "</log>\n"
    assert read_xes(write(tmp_path, text, "a.xes.gz")).equals(read_xes(write(tmp_path, text)))


def test_a_log_without_traces_is_empty(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "</log>\n")
    assert read_xes(path).equals(pl.DataFrame(schema=RAW_SCHEMA))


# -- refused logs -------------------------------------------------------------------------------

GOOD = trace("c1", event(), event("Check"))
BAD_LOGS = [
    # (name, text, where, field, words in the message)
    ("unclosed tag", HEAD + trace("c1", event().replace("</event>", "")) + "</log>\n",
     "line 9, column 3", None, "mismatched tag"),
    ("broken attribute", HEAD + GOOD.replace('value="Check"', 'value="Check'),
     "line 11, column 5", None, "not well-formed"),
    ("bare ampersand", HEAD + GOOD.replace("Check", "R&D"), "line 10, column 42", None,
     "not well-formed"),
    ("cut off", HEAD + GOOD, "line 14, column 1", None, "no element found"),
    ("missing timestamp", HEAD + trace("c1", event(), '  <event>\n    <string key="concept:name"'
     ' value="x"/>\n  </event>\n') + "</log>\n", "line 9", "time:timestamp", "no time"),
    ("missing activity", HEAD + trace("c1", event().replace("concept:name", "note")) + "</log>\n",
     "line 5", "concept:name", "no activity"),
    ("bad timestamp", HEAD + trace("c1", event(), event(when="2024-13-01T09:30:00")) + "</log>\n",
     "line 9", "time:timestamp", "'2024-13-01T09:30:00' is not a date and time"),
    ("words for a time", HEAD + trace("c1", event(when="yesterday")) + "</log>\n", "line 5",
     "time:timestamp", "'yesterday'"),
    ("missing case id", HEAD + GOOD + GOOD.replace('"concept:name" value="c1"', '"x" value="1"')
     + "</log>\n", "line 14", "concept:name", "no case id"),
    ("event outside a trace", HEAD + GOOD + event() + "</log>\n", "line 14", None,
     "an event outside a trace"),
    ("event in an event", HEAD + trace("c1", event().replace("  </event>", event() + "</event>"))
     + "</log>\n", "line 8", None, "an event outside a trace"),
    ("bad head", HEAD + '<string key="n" value="a&b"/>\n' + GOOD + "</log>\n",
     "line 3, column 27", None, "not well-formed"),
    ("not a log", '<?xml version="1.0"?>\n<html/>\n', "line 2", None, "not an XES log"),
    ("empty", "", "line 1, column 1", None, "no element found"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "where", "field", "words"), BAD_LOGS,
                         ids=[case[0] for case in BAD_LOGS])  # fmt: skip
@pytest.mark.parametrize("file", ["log.xes", "log.xes.gz"])
def test_a_bad_log_is_refused_where_it_breaks(
    tmp_path: Path, name: str, text: str, where: str, field: str | None, words: str, file: str
) -> None:
    with pytest.raises(LogError) as refused:
        read_xes(write(tmp_path, text, file))
    assert (refused.value.source, refused.value.where, refused.value.field) == (file, where, field)
    assert words in str(refused.value)


def test_a_truncated_or_corrupt_gzip_file_is_refused(tmp_path: Path) -> None:
    packed = gzip.compress((HEAD + GOOD * 50 + "</log>\n").encode())
    cut = tmp_path / "cut.xes.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(LogError, match="gzip stream ends early"):
        read_xes(cut)
    corrupt = tmp_path / "corrupt.xes.gz"
    corrupt.write_bytes(packed[:20] + b"\xff" * 40 + packed[60:])
    with pytest.raises(LogError, match="not gzip"):
        read_xes(corrupt)


def test_an_organisation_no_event_has_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LogError) as refused:
        read_xes(write(tmp_path, HEAD + GOOD + "</log>\n"), organisation="unit")
    assert refused.value.field == "unit"


# -- writing ------------------------------------------------------------------------------------


def frame(rows: list[tuple[object, ...]]) -> pl.DataFrame:
    columns = ["case_id", "seq", "kind", "at", "step", "lane", "actor", "process", "version"]
    return pl.DataFrame(rows, schema=columns, orient="row").cast(
        {column: FRAME_SCHEMA[column] for column in columns}
    )


T0 = dt.datetime(2024, 3, 1, 8, 0)
EVENTS = frame([
    ("k2", 1, "case_started", T0, None, None, None, "rent", 2),
    ("k2", 2, "step_ready", T0, "check & <sign>", "nav \"east\"", None, "rent", 2),
    ("k2", 3, "step_started", T0 + dt.timedelta(minutes=5), "check & <sign>", "nav \"east\"",
     "p1", "rent", 2),
    ("k2", 4, "handoff", T0 + dt.timedelta(minutes=6), None, None, None, "rent", 2),
    ("k1", 1, "step_completed", T0 + dt.timedelta(hours=1, milliseconds=250), "register",
     "front", "p2", "rent", 2),
    ("k2", 5, "step_completed", T0 + dt.timedelta(minutes=30), "check & <sign>", "nav \"east\"",
     "p1", "rent", 2),
])  # fmt: skip
WRITTEN = [  # case, activity, lifecycle, at, resource, org in the order written
    ("k2", "check & <sign>", "schedule", T0, None, 'nav "east"'),
    ("k2", "check & <sign>", "start", T0 + dt.timedelta(minutes=5), "p1", 'nav "east"'),
    ("k2", "check & <sign>", "complete", T0 + dt.timedelta(minutes=30), "p1", 'nav "east"'),
    ("k1", "register", "complete", T0 + dt.timedelta(hours=1, milliseconds=250), "p2", "front"),
]


@pytest.mark.parametrize("name", ["out.xes", "out.xes.gz"])
def test_written_steps_read_back_the_same_by_read_xes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert write_xes(EVENTS, path) == 4
    found = both_paths(path)
    assert uses_line_path(path)
    assert found.select("case", "activity", "lifecycle", "at", "resource", "org").rows() == WRITTEN
    assert not (tmp_path / f"{name}.part").exists()


def test_written_steps_read_back_the_same_by_rustxes(tmp_path: Path) -> None:
    rustxes = pytest.importorskip("rustxes")
    path = tmp_path / "out.xes.gz"
    write_xes(EVENTS, path)
    theirs, meta = rustxes.import_xes(str(path))
    assert theirs.select(
        "case:concept:name", "concept:name", "lifecycle:transition",
        pl.col("time:timestamp").dt.cast_time_unit("us").dt.replace_time_zone(None),
        "org:resource", "org:group",
    ).rows() == WRITTEN  # fmt: skip
    assert theirs["case:process"].to_list() == ["rent"] * 4
    assert theirs["case:version"].to_list() == ["2"] * 4
    for prefix in ("concept", "time", "lifecycle", "org"):
        assert f'"prefix":"{prefix}"' in meta


def test_globals_declare_only_attributes_every_event_has(tmp_path: Path) -> None:
    path = tmp_path / "out.xes"
    write_xes(EVENTS, path)
    head = path.read_text().split("<trace>")[0]
    assert '<string key="org:group" value="__INVALID__"/>' in head  # every step has a lane
    assert '<string key="org:resource"' not in head  # the ready step has no actor
    assert '<classifier name="Activity" scope="event" keys="concept:name"/>' in head


def test_writing_reports_progress_in_events(tmp_path: Path) -> None:
    told: list[tuple[int, int | None]] = []
    write_xes(EVENTS, tmp_path / "out.xes", progress=lambda done, total: told.append((done, total)))
    assert told == [(4, 4)]


def test_blocks_of_whole_traces_keep_lines_and_cases_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xes_lines, "_READ", 64)
    monkeypatch.setattr(xes_lines, "_BLOCK", 300)  # a block every trace or two
    blocks: list[int] = []
    read_block = xes_lines._read_block

    def counted(lines: pl.DataFrame, *args: object) -> tuple[pl.DataFrame, pl.DataFrame]:
        blocks.append(lines.height)
        return read_block(lines, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(xes_lines, "_read_block", counted)
    traces = [trace(f"c{n}", *(event(f"a{n}.{k}") for k in range(n % 3 + 1))) for n in range(9)]
    text = HEAD + "".join(traces) + "</log>\n"
    found = both_paths(write(tmp_path, text))
    assert len(blocks) >= 5
    assert found["case"].to_list() == [f"c{n}" for n in range(9) for _ in range(n % 3 + 1)]
    lines = text.splitlines()
    assert all(lines[row - 1].strip() == "<event>" for row in found["row"])
    assert [lines[row].split('"')[3] for row in found["row"]] == found["activity"].to_list()


def test_a_late_line_out_of_the_layout_sends_the_whole_file_element_by_element(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xes_lines, "_BLOCK", 300)
    traces = "".join(trace(f"c{n}", event(), event("Check")) for n in range(6))
    path = write(tmp_path, HEAD + traces + "<!-- the end -->\n</log>\n")
    assert not uses_line_path(path)
    assert read_xes(path)["case"].to_list() == [f"c{n}" for n in range(6) for _ in range(2)]


def test_an_empty_frame_writes_a_log_without_traces(tmp_path: Path) -> None:
    path = tmp_path / "empty.xes"
    assert write_xes(EVENTS.clear(), path) == 0
    assert read_xes(path).is_empty()


def test_a_case_that_spans_batches_stays_one_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xes, "_BATCH", 2)
    path = tmp_path / "out.xes"
    told: list[tuple[int, int | None]] = []
    write_xes(EVENTS, path, progress=lambda done, total: told.append((done, total)))
    text = path.read_text()
    assert text.count("<trace>") == text.count("</trace>") == 2
    assert (
        read_xes(path).select("case", "activity", "lifecycle", "at", "resource", "org").rows()
        == WRITTEN
    )
    assert told == [(2, 4), (4, 4)]


@pytest.mark.parametrize(
    ("start", "newline"), [(b"", "\n"), (b"\xef\xbb\xbf", "\n"), (b"", "\r\n")],
    ids=["utf-8", "byte order mark", "crlf"],
)  # fmt: skip
def test_utf8_with_a_byte_order_mark_or_crlf_stays_on_the_line_path(
    tmp_path: Path, start: bytes, newline: str
) -> None:
    text = HEAD + trace("sak-ø", event("Registrér søknad")) + "</log>\n"
    path = tmp_path / "log.xes"
    path.write_bytes(start + text.replace("\n", newline).encode())
    assert uses_line_path(path)
    assert both_paths(path).rows() == [
        ("sak-ø", "Registrér søknad", dt.datetime(2024, 3, 1, 8, 30), None, None, None, 5)
    ]


def test_one_line_or_one_huge_trace_is_read_element_by_element(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xes_lines, "_READ", 64)
    monkeypatch.setattr(xes_lines, "_BLOCK", 200)
    monkeypatch.setattr(xes_lines, "_LARGEST", 1000)  # no place to cut a block within it
    huge = HEAD + trace("c", *(event(f"a{n}") for n in range(12))) + "</log>\n"
    one_line = huge.replace("\n", " ").replace("?> ", "?>\n", 1)
    for name, text in (("huge.xes", huge), ("one-line.xes", one_line)):
        path = write(tmp_path, text, name)
        assert not uses_line_path(path)
        assert read_xes(path)["activity"].to_list() == [f"a{n}" for n in range(12)]
