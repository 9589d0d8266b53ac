"""CSV and Parquet event logs: read with a mapping into the raw log frame, and written back."""

from __future__ import annotations

import csv as stdlib_csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from boflyt.engine.store.frame import FRAME_SCHEMA
from boflyt.formats.log_frame import RAW_SCHEMA, LogError
from boflyt.formats.mapping import LogMapping, load_mapping
from boflyt.formats.table_log import EXPORT_COLUMNS, flat_log, read_table, write_table
from boflyt.models.errors import CommandError

UTC = dt.UTC


def at(*parts: int) -> dt.datetime:
    """A naive UTC instant, as the raw log frame holds it."""
    return dt.datetime(*parts)  # type: ignore[arg-type]


def csv(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def column(frame: pl.DataFrame, name: str) -> list[object]:
    return frame[name].to_list()


# -- reading CSV ---------------------------------------------------------------------------------


def test_boflyts_own_columns_are_read_without_a_mapping(tmp_path: Path) -> None:
    path = csv(tmp_path, (
        "case,activity,timestamp,lifecycle,resource,organisation\n"
        "c1,Registrer søknad,2024-03-01T08:00:00+01:00,START,ola,Servicetorget\n"
        "c1,Registrer søknad,2024-03-01T08:30:00+01:00,complete,ola,Servicetorget\n"
        "c2, Vurder ,2024-03-02T09:15:00Z,,,\n"
    ))  # fmt: skip
    frame = read_table(path, LogMapping())
    assert frame.schema == pl.Schema(RAW_SCHEMA)
    assert column(frame, "case") == ["c1", "c1", "c2"]
    assert column(frame, "activity") == ["Registrer søknad", "Registrer søknad", "Vurder"]
    assert column(frame, "at") == [at(2024, 3, 1, 7), at(2024, 3, 1, 7, 30), at(2024, 3, 2, 9, 15)]
    assert column(frame, "lifecycle") == ["start", "complete", None]
    assert column(frame, "resource") == ["ola", "ola", None]
    assert column(frame, "org") == ["Servicetorget", "Servicetorget", None]
    assert column(frame, "row") == [2, 3, 4]  # as a spreadsheet numbers them: header = row 1


def test_optional_columns_the_file_lacks_are_null(tmp_path: Path) -> None:
    frame = read_table(
        csv(tmp_path, "case,activity,timestamp\nc1,a,2024-03-01 08:00\n"), LogMapping()
    )
    assert frame.select("lifecycle", "resource", "org").row(0) == (None, None, None)


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2024-03-31T01:30:00", at(2024, 3, 31, 0, 30)),  # CET, before the spring change
        ("2024-03-31T03:30:00", at(2024, 3, 31, 1, 30)),  # CEST, after it
        ("2024-10-27 01:30", at(2024, 10, 26, 23, 30)),  # CEST, before the autumn change
        ("2024-10-27T02:30:00", at(2024, 10, 27, 0, 30)),  # happens twice: the earlier one
        ("2024-10-27T03:30:00", at(2024, 10, 27, 2, 30)),  # CET again
        ("2024-10-27", at(2024, 10, 26, 22)),  # a date alone: local midnight
        ("2024-10-27T02:30:00+01:00", at(2024, 10, 27, 1, 30)),  # an offset decides
        ("2024-10-27T02:30:00.250+0100", at(2024, 10, 27, 1, 30, 0, 250000)),
        ("2024-10-27T01:30:00,5Z", at(2024, 10, 27, 1, 30, 0, 500000)),
        ("2024-10-27T02:30+01", at(2024, 10, 27, 1, 30)),
    ],
)
def test_a_naive_time_is_oslo_time_across_the_dst_changes(
    tmp_path: Path, written: str, utc: dt.datetime
) -> None:
    path = csv(tmp_path, f'case,activity,timestamp\nc1,a,"{written}"\n')
    assert column(read_table(path, LogMapping()), "at") == [utc]


def test_the_mappings_time_zone_reads_naive_times(tmp_path: Path) -> None:
    path = csv(tmp_path, "case,activity,timestamp\nc1,a,2024-07-01T08:00:00\n")
    assert column(read_table(path, LogMapping(time_zone="UTC")), "at") == [at(2024, 7, 1, 8)]
    ny = LogMapping(time_zone="America/New_York")
    assert column(read_table(path, ny), "at") == [at(2024, 7, 1, 12)]


def test_a_row_with_a_start_and_an_end_gives_a_start_and_a_complete_event(tmp_path: Path) -> None:
    path = csv(tmp_path, (
        "Sak;Aktivitet;Startet;Ferdig;Enhet\n"
        "1;Registrer;01.03.2024 08:00;01.03.2024 08:30;Servicetorget\n"
        "1;Vurder;;04.03.2024 09:00;NAV\n"
        "2;Vurder;31.03.2024 01:50;31.03.2024 03:10;NAV\n"
    ))  # fmt: skip
    mapping = LogMapping(
        case="Sak", activity="Aktivitet", start_timestamp="Startet", timestamp="Ferdig",
        organisation="Enhet", timestamp_format="%d.%m.%Y %H:%M", separator=";",
    )  # fmt: skip
    frame = read_table(path, mapping)
    assert frame.select("case", "activity", "lifecycle", "at", "org", "row").rows() == [
        ("1", "Registrer", "start", at(2024, 3, 1, 7), "Servicetorget", 2),
        ("1", "Registrer", "complete", at(2024, 3, 1, 7, 30), "Servicetorget", 2),
        ("1", "Vurder", "complete", at(2024, 3, 4, 8), "NAV", 3),
        ("2", "Vurder", "start", at(2024, 3, 31, 0, 50), "NAV", 4),  # 20 minutes over the change
        ("2", "Vurder", "complete", at(2024, 3, 31, 1, 10), "NAV", 4),
    ]


def test_a_start_timestamp_mapping_ignores_a_lifecycle_column(tmp_path: Path) -> None:
    path = csv(tmp_path, "case,activity,start,timestamp,lifecycle\nc,a,2024-01-01,2024-01-02,x\n")
    frame = read_table(path, LogMapping(start_timestamp="start"))
    assert column(frame, "lifecycle") == ["start", "complete"]


def test_a_pattern_with_an_offset_keeps_the_instant(tmp_path: Path) -> None:
    path = csv(tmp_path, "case,activity,timestamp\nc1,a,01/07/2024 10:00 +0200\n")
    mapping = LogMapping(timestamp_format="%d/%m/%Y %H:%M %z", time_zone="America/New_York")
    assert column(read_table(path, mapping), "at") == [at(2024, 7, 1, 8)]


def test_blank_lines_are_skipped_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "windows.csv"
    path.write_bytes(
        b"case,activity,timestamp\r\nc1,a,2024-01-01\r\n\r\n,,\r\nc2,b,2024-01-02\r\n\r\n"
    )
    frame = read_table(path, LogMapping())
    assert frame.select("case", "row").rows() == [("c1", 2), ("c2", 5)]


def test_a_spreadsheets_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffcase,activity,timestamp\nc1,a,2024-01-01\n".encode())
    assert column(read_table(path, LogMapping()), "case") == ["c1"]


def test_a_windows_spreadsheet_export_is_read_in_the_encoding_the_mapping_names(
    tmp_path: Path,
) -> None:
    path = tmp_path / "eksport.csv"
    path.write_bytes("Sak;Aktivitet;Tid\n1;Søknad mottatt;01.03.2024 08:00\n".encode("cp1252"))
    mapping = LogMapping(
        case="Sak", activity="Aktivitet", timestamp="Tid", timestamp_format="%d.%m.%Y %H:%M",
        separator=";", encoding="windows-1252",
    )  # fmt: skip
    frame = read_table(path, mapping)
    assert frame.select("activity", "at").row(0) == ("Søknad mottatt", at(2024, 3, 1, 7))
    with pytest.raises(LogError) as refused:  # the same file, read as UTF-8
        read_table(path, mapping.model_copy(update={"encoding": "utf-8"}))
    assert str(refused.value).startswith(
        "eksport.csv, line 2, Aktivitet: byte 0xf8 is not utf-8; allowed: utf-8 text (save the "
        "file as 'CSV UTF-8', or name its encoding in the mapping, such as encoding = "
        '"windows-1252")'
    )


def test_progress_is_told_the_bytes_read(tmp_path: Path) -> None:
    path = csv(tmp_path, "case,activity,timestamp\nc1,a,2024-01-01\n")
    told: list[tuple[int, int | None]] = []
    read_table(path, LogMapping(), progress=lambda done, total: told.append((done, total)))
    size = path.stat().st_size
    assert told == [(0, size), (size, size)]


# -- bad input -----------------------------------------------------------------------------------

HEAD = "case,activity,timestamp\n"
BAD_CSV = [
    # (content, mapping, the whole message)
    (HEAD.replace("timestamp", "tid") + "c1,a,2024-01-01\n", LogMapping(),
     "log.csv, row 1, timestamp: no column 'timestamp'; the file has: 'case', 'activity', 'tid'"),
    (HEAD + "c1,a,2024-01-01\n", LogMapping(case="Saksnummer", resource="Saksbehandler"),
     "log.csv, row 1, case, resource: no column 'Saksnummer', 'Saksbehandler'; "
     "the file has: 'case', 'activity', 'timestamp'"),
    (HEAD + "c1,a,2024-01-01\nc1,a,2024-01-02\nc1,a,32.01.2024\nc2,b,2024-02-30\n", LogMapping(),
     "log.csv, row 4, timestamp: '32.01.2024' is not a time; allowed: ISO 8601, such as "
     "2024-03-01T08:15:00+01:00 or 2024-03-01 08:15 (and 1 more row like it)"),
    (HEAD + "c1,a,2024-01-01 08:00\n", LogMapping(timestamp_format="%d.%m.%Y %H:%M"),
     "log.csv, row 2, timestamp: '2024-01-01 08:00' is not a time; allowed: the format "
     "%d.%m.%Y %H:%M"),
    (HEAD + "c1,a,2024-01-01\n,a,2024-01-01\n", LogMapping(),
     "log.csv, row 3, case: empty case; allowed: any text"),
    (HEAD + 'c1,a,2024-01-01\nc1,"  ",2024-01-01\n', LogMapping(),
     "log.csv, row 3, activity: empty activity; allowed: any text"),
    (HEAD + "c1,a,\n", LogMapping(),
     "log.csv, row 2, timestamp: empty timestamp; allowed: ISO 8601"),
    (HEAD + "c1,a\n", LogMapping(),
     "log.csv, row 2, timestamp: empty timestamp"),
    (HEAD + "c1,a,2024-03-31T02:30:00\n", LogMapping(),
     "log.csv, row 2, timestamp: '2024-03-31T02:30:00' never happens in Europe/Oslo "
     "(the clocks skip it)"),
    ("case,activity,start,timestamp\nc1,a,2024-01-02,2024-01-01\n",
     LogMapping(start_timestamp="start"),
     "log.csv, row 2, start: '2024-01-02' is after the row's timestamp; allowed: a start at or "
     "before it"),
    ("case,activity,start,timestamp\nc1,a,1. januar,2024-01-01\n",
     LogMapping(start_timestamp="start"), "log.csv, row 2, start: '1. januar' is not a time"),
    (b"case,activity,timestamp\nc1,a,2024-01-01\nc2,S\xf8knad,2024-01-01\n", LogMapping(),
     "log.csv, line 3, activity: byte 0xf8 is not utf-8; allowed: utf-8 text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", LogMapping(),
     "log.csv, line 1: byte 0x89 is not utf-8"),
    ("", LogMapping(), "log.csv: the file is empty (no header row)"),
    (HEAD + 'c1,a,2024-01-01\nc2,"b, c",2024-01-01,extra\n', LogMapping(),
     "log.csv, row 3: 4 fields where the header has 3; allowed: at most 3 (quote a value that "
     "holds ',')"),
    (HEAD + 'c1,"a\n', LogMapping(), "log.csv, line 2: malformed CSV: unexpected end of data"),
    ("case;activity;timestamp\nc1;a;2024-01-01\n", LogMapping(),
     "log.csv, row 1, case, activity, timestamp: no column 'case', 'activity', 'timestamp'; "
     "the file has: 'case;activity;timestamp'"),
    ("case,case,activity,timestamp\nc1,c2,a,2024-01-01\n", LogMapping(),
     "log.csv, row 1, case: the header names 'case' more than once; allowed: one column of each "
     "name the mapping uses"),
    ("Sak ,activity,timestamp\nc1,a,2024-01-01\n", LogMapping(case="Sak"),
     "log.csv, row 1, case: no column 'Sak'; the file has: 'Sak ', 'activity', 'timestamp'"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "mapping", "message"), BAD_CSV, ids=range(len(BAD_CSV)))
def test_a_bad_csv_is_refused_with_its_row_and_field(
    tmp_path: Path, content: str | bytes, mapping: LogMapping, message: str
) -> None:
    path = tmp_path / "log.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(LogError) as refused:
        read_table(path, mapping)
    assert str(refused.value).startswith(message)


def test_the_place_and_field_are_kept_apart_for_callers(tmp_path: Path) -> None:
    path = csv(tmp_path, HEAD + "c1,a,2024-01-01\nc1,a,i går\n")
    with pytest.raises(LogError) as refused:
        read_table(path, LogMapping())
    assert (refused.value.source, refused.value.where, refused.value.field) == (
        "log.csv", "row 3", "timestamp",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("log.xlsx", b"PK\x03\x04", "log.xlsx: not a CSV or Parquet file ('.xlsx'); allowed:"),
        ("log.parquet", b"PAR1 not really", "log.parquet: not a readable parquet file:"),
        ("log.parquet", b"case,activity,timestamp\n", "log.parquet: not a readable"),
    ],
)
def test_a_file_that_is_not_csv_or_parquet_is_refused(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LogError) as refused:
        read_table(path, LogMapping())
    assert str(refused.value).startswith(message)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LogError, match=r"^gone.csv: cannot read the file"):
        read_table(tmp_path / "gone.csv", LogMapping())


# -- Parquet -------------------------------------------------------------------------------------


def test_parquet_times_may_be_timestamps_with_or_without_a_zone_or_text(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pl.DataFrame({
        "sak": [101, 102, 103],
        "steg": pl.Series(["Registrer", "Vurder", "Vurder"], dtype=pl.Categorical),
        "ferdig_utc": [dt.datetime(2024, 7, 1, 8, tzinfo=UTC)] * 3,
        "ferdig_lokal": [dt.datetime(2024, 7, 1, 10)] * 3,
        "ferdig_dato": [dt.date(2024, 7, 1)] * 3,
        "ferdig_tekst": ["2024-07-01 10:00"] * 3,
    }).write_parquet(path)  # fmt: skip
    for name in ("ferdig_utc", "ferdig_lokal", "ferdig_tekst"):
        frame = read_table(path, LogMapping(case="sak", activity="steg", timestamp=name))
        assert column(frame, "at") == [at(2024, 7, 1, 8)] * 3, name
        assert column(frame, "case") == ["101", "102", "103"]
        assert column(frame, "activity") == ["Registrer", "Vurder", "Vurder"]
        assert column(frame, "row") == [1, 2, 3]  # the row index + 1
    frame = read_table(path, LogMapping(case="sak", activity="steg", timestamp="ferdig_dato"))
    assert column(frame, "at") == [at(2024, 6, 30, 22)] * 3


def test_a_parquet_local_time_the_clocks_skip_is_refused_at_its_row(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    walls = [dt.datetime(2024, 3, 31, 1, 59), dt.datetime(2024, 3, 31, 2, 30)]
    pl.DataFrame({"case": ["c", "c"], "activity": ["a", "b"], "tid": walls}).write_parquet(path)
    with pytest.raises(LogError) as refused:
        read_table(path, LogMapping(timestamp="tid", timestamp_format="%d.%m.%Y %H:%M"))
    assert str(refused.value) == (
        "log.parquet, row 2, tid: '2024-03-31 02:30:00' never happens in Europe/Oslo "
        "(the clocks skip it)"
    )


def test_a_parquet_column_of_numbers_is_not_a_time(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pl.DataFrame({"case": ["c"], "activity": ["a"], "timestamp": [1.5]}).write_parquet(path)
    with pytest.raises(LogError) as refused:
        read_table(path, LogMapping())
    assert str(refused.value).startswith("log.parquet, timestamp: holds Float64, not times")


def test_a_parquet_null_case_is_refused_at_its_row(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pl.DataFrame(
        {"case": ["c", None], "activity": ["a", "b"], "timestamp": ["2024-01-01"] * 2}
    ).write_parquet(path)
    with pytest.raises(LogError, match=r"^log.parquet, row 2, case: empty case"):
        read_table(path, LogMapping())


# -- writing -------------------------------------------------------------------------------------


def events() -> pl.DataFrame:
    """A small Boflyt event frame: two cases, a start and a completion, an automatic step."""
    rows = [
        ("c-1", 1, "case_started", at(2024, 3, 1, 7), None, None, None, None, None),
        ("c-1", 2, "step_ready", at(2024, 3, 1, 7), "register", 1, "servicetorget", None, None),
        ("c-1", 3, "step_started", at(2024, 3, 1, 8, 5, 1, 250), "register", 1, "servicetorget",
         "res-a1", "servicetorget"),
        ("c-1", 4, "step_completed", at(2024, 3, 1, 8, 35), "register", 1, "servicetorget",
         "res-a1", "servicetorget"),
        ("c-1", 5, "handoff", at(2024, 3, 1, 8, 35), None, None, None, None, None),
        ("c-1", 6, "step_completed", at(2024, 3, 2, 9), "assess", 2, "nav", "res-b2", "nav"),
        ("c-2", 1, "case_started", at(2024, 3, 31, 0, 59, 59), None, None, None, None, None),
        ("c-2", 2, "step_completed", at(2024, 3, 31, 1), "check", 1, None, None, "nav"),
        ("c-2", 3, "case_finished", at(2024, 3, 31, 1), None, None, None, None, None),
    ]  # fmt: skip
    names = ("case_id", "seq", "kind", "at", "step", "item", "lane", "actor", "org")
    frame = pl.DataFrame(rows, schema=names, orient="row")
    return frame.with_columns(
        process=pl.lit("refugee_settlement"), version=pl.lit(2), mode=pl.lit("live")
    ).select(
        pl.col(name).cast(dtype) if name in frame.columns or name in ("process", "version", "mode")
        else pl.lit(None, dtype).alias(name)
        for name, dtype in FRAME_SCHEMA.items()
    )  # fmt: skip


def test_the_flat_log_has_a_row_per_step_start_and_completion() -> None:
    flat = flat_log(events())
    assert flat.columns == list(EXPORT_COLUMNS)
    assert flat.select("case", "activity", "lifecycle", "resource", "organisation").rows() == [
        ("c-1", "register", "start", "res-a1", "servicetorget"),
        ("c-1", "register", "complete", "res-a1", "servicetorget"),
        ("c-1", "assess", "complete", "res-b2", "nav"),
        ("c-2", "check", "complete", None, "nav"),  # no lane: the actor's organisation
    ]
    assert set(column(flat, "process")) == {"refugee_settlement"} and set(flat["version"]) == {2}


def test_csv_times_are_iso_with_an_offset(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    assert write_table(events(), path) == 4
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(EXPORT_COLUMNS)
    assert lines[1] == (
        "c-1,register,2024-03-01T08:05:01.000250+00:00,start,res-a1,servicetorget,"
        "refugee_settlement,2"
    )
    assert lines[2].split(",")[2] == "2024-03-01T08:35:00+00:00"


def test_parquet_has_utc_times_and_dictionary_encoded_text(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    assert write_table(events(), path, format="parquet") == 4
    schema = pl.read_parquet_schema(path)
    assert schema["timestamp"] == pl.Datetime("us", "UTC")
    assert all(schema[name] == pl.Categorical for name in ("activity", "lifecycle", "resource",
               "organisation", "process"))  # fmt: skip
    assert schema["case"] == pl.String and schema["version"] == pl.Int64


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_what_write_table_writes_the_default_mapping_reads_back_unchanged(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"out.{suffix}"
    written = flat_log(events())
    write_table(events(), path)
    read = read_table(path, LogMapping())
    assert read.select("case", "activity", "at", "lifecycle", "resource", "org").rows() == (
        written.select(
            "case", "activity", pl.col("timestamp").dt.replace_time_zone(None), "lifecycle",
            "resource", "organisation",
        ).rows()
    )  # fmt: skip
    assert column(read, "row") == ([2, 3, 4, 5] if suffix == "csv" else [1, 2, 3, 4])


def test_writing_needs_a_format(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"out.txt: write .csv or .parquet"):
        write_table(events(), tmp_path / "out.txt")


# -- the reference page's worked example ---------------------------------------------------------

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "formats-csv.md"


def block(kind: str) -> str:
    """The first fenced block of ``kind`` on the reference page."""
    text = PAGE.read_text(encoding="utf-8")
    return text.split(f"```{kind}\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("suffix", ["toml", "yaml"])
def test_the_worked_example_reads_as_the_page_says(tmp_path: Path, suffix: str) -> None:
    log = tmp_path / "tildeling.csv"
    log.write_text(block("text"), encoding="utf-8")
    mapping = tmp_path / f"tildeling.{suffix}"
    mapping.write_text(block(suffix), encoding="utf-8")
    frame = read_table(log, load_mapping(mapping))
    assert frame.select("activity", "lifecycle", "at", "resource", "org").rows() == [
        ("Registrer søknad", "start", at(2024, 3, 1, 7, 2), "kari.n", "Servicetorget"),
        ("Registrer søknad", "complete", at(2024, 3, 1, 7, 20), "kari.n", "Servicetorget"),
        ("Kartlegg behov", "complete", at(2024, 3, 4, 12, 45), "ole.h", "NAV"),
        ("Vedtak", "start", at(2024, 3, 31, 0, 50), "kari.n", "Boligkontoret"),
        ("Vedtak", "complete", at(2024, 3, 31, 1, 10), "kari.n", "Boligkontoret"),
    ]
    assert set(frame["case"]) == {"2024-0117"}


def test_a_log_with_only_its_header_is_an_empty_raw_frame(tmp_path: Path) -> None:
    frame = read_table(csv(tmp_path, "case,activity,timestamp\n"), LogMapping())
    assert frame.is_empty() and frame.schema == pl.Schema(RAW_SCHEMA)


def test_the_csv_is_read_by_pythons_own_csv_and_iso_readers(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_table(events(), path)
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(stdlib_csv.DictReader(file))
    when = [dt.datetime.fromisoformat(row["timestamp"]) for row in rows]
    assert when == [
        dt.datetime(2024, 3, 1, 8, 5, 1, 250, tzinfo=UTC),
        dt.datetime(2024, 3, 1, 8, 35, tzinfo=UTC),
        dt.datetime(2024, 3, 2, 9, tzinfo=UTC),
        dt.datetime(2024, 3, 31, 1, tzinfo=UTC),
    ]
    assert [(row["case"], row["lifecycle"], row["version"]) for row in rows] == [
        ("c-1", "start", "2"), ("c-1", "complete", "2"), ("c-1", "complete", "2"),
        ("c-2", "complete", "2"),
    ]  # fmt: skip
    assert rows[3]["resource"] == ""  # an automatic step: no one did it
