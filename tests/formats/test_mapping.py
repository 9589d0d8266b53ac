"""The log mapping file: TOML or YAML, every mistake named with file, key, found and allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from boflyt.formats.log_frame import LogError
from boflyt.formats.mapping import DEFAULT_TIME_ZONE, ISO, LogMapping, load_mapping, parse_mapping

TOML = """\
case = "Saksnummer"
activity = "Aktivitet"
timestamp = "Ferdig"
start_timestamp = "Startet"
resource = "Saksbehandler"
organisation = "Enhet"
timestamp_format = "%d.%m.%Y %H:%M"
time_zone = "Europe/Oslo"
separator = ";"
"""
YAML = """\
case: Saksnummer
activity: Aktivitet
timestamp: Ferdig
start_timestamp: Startet
resource: Saksbehandler
organisation: Enhet
timestamp_format: "%d.%m.%Y %H:%M"
time_zone: Europe/Oslo
separator: ";"
"""


def test_a_toml_and_a_yaml_mapping_say_the_same(tmp_path: Path) -> None:
    (tmp_path / "enhet.toml").write_text(TOML, encoding="utf-8")
    (tmp_path / "enhet.yaml").write_text(YAML, encoding="utf-8")
    toml, yaml = load_mapping(tmp_path / "enhet.toml"), load_mapping(tmp_path / "enhet.yaml")
    assert toml == yaml
    assert (toml.case, toml.start_timestamp, toml.organisation) == (
        "Saksnummer",
        "Startet",
        "Enhet",
    )
    assert (toml.lifecycle, toml.separator) == (None, ";")


def test_without_a_file_the_mapping_reads_boflyts_own_export_in_oslo_time() -> None:
    default = LogMapping()
    assert (default.case, default.activity, default.timestamp) == ("case", "activity", "timestamp")
    assert (default.timestamp_format, default.time_zone) == (ISO, DEFAULT_TIME_ZONE)
    assert DEFAULT_TIME_ZONE == "Europe/Oslo"
    assert default.organisation is None  # XES: org:group; a table: its 'organisation' column


def test_an_xes_mapping_may_name_only_the_organisation_attribute() -> None:
    assert parse_mapping('organisation = "org:resource"', file="m.toml").organisation == (
        "org:resource"
    )


def test_the_mapping_is_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        LogMapping().case = "sak"  # type: ignore[misc]


@pytest.mark.parametrize(
    "pattern",
    [
        "%d.%m.%Y %H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%d/%m/%Y %H:%M %z",
        "%F %T",
        "%d.%m.%y",
        "%d.%m.%Y kl. %H.%M",
        "%Y-%m-%d %H:%M %%",
    ],
)
def test_a_strftime_pattern_that_reads_its_own_output_is_accepted(pattern: str) -> None:
    assert LogMapping(timestamp_format=pattern).timestamp_format == pattern


BAD = [
    # (file, text, the whole message)
    ("m.toml", 'sak = "Saksnummer"',
     "m.toml, sak: unknown key; allowed: case, activity, timestamp, start_timestamp, resource, "
     "organisation, lifecycle, timestamp_format, time_zone, separator, encoding"),
    ("m.toml", 'time_zon = "UTC"', "m.toml, time_zon: unknown key (did you mean 'time_zone'?)"),
    ("m.toml", "case = 7", 'm.toml, case: found 7; allowed: text (quote it: "7")'),
    ("m.toml", 'case = ""', "m.toml, case: found an empty column name; allowed: the name of a"),
    ("m.toml", 'time_zone = "Europe/Olso"',
     "m.toml, time_zone: unknown time zone 'Europe/Olso' (did you mean 'Europe/Oslo'?); "
     "allowed: an IANA name such as Europe/Oslo or UTC"),
    ("m.toml", 'time_zone = "CEST"', "m.toml, time_zone: unknown time zone 'CEST'"),
    ("m.toml", 'timestamp_format = "%d.%m.%Q"',
     "m.toml, timestamp_format: '%d.%m.%Q' has an unknown directive %Q; allowed: iso or %Y"),
    ("m.toml", 'timestamp_format = "%Y-%m-%d %"',
     "m.toml, timestamp_format: '%Y-%m-%d %' has an unknown directive %; allowed: iso or %Y"),
    ("m.toml", 'timestamp_format = "%H:%M"',
     "m.toml, timestamp_format: '%H:%M' names no date; allowed: iso, or a pattern with a year"),
    ("m.toml", 'timestamp_format = "%d.%m.%Y %I:%M"',
     "m.toml, timestamp_format: '%d.%m.%Y %I:%M' cannot read the times it writes"),
    ("m.toml", 'encoding = "rot13"', "m.toml, encoding: unknown encoding 'rot13'; allowed: utf-8"),
    ("m.toml", 'separator = ";;"', "m.toml, separator: found ';;'; allowed: one character"),
    ("m.toml", 'start_timestamp = "Start"\nlifecycle = "Status"',
     "m.toml, lifecycle: found both start_timestamp and lifecycle; allowed: one of them"),
    ("m.toml", 'case = "a"\ncase = "b"', "m.toml: not valid TOML: Cannot overwrite a value"),
    ("m.yaml", "case: Sak\ntidssone: UTC",
     "m.yaml, line 2, tidssone: unknown key; allowed: case, activity"),
    ("m.yaml", "case: 2024", 'm.yaml, line 1, case: found 2024; allowed: text (quote it: "2024")'),
    ("m.yaml", "case:\nresource:",
     "m.yaml, line 1, case: found nothing; allowed: text (leave the key out for its default)"),
    ("m.yaml", "case: Sak\ncase: Saksnr", "m.yaml, line 2: duplicate key 'case'"),
    ("m.yaml", "- case", "m.yaml: expected keys and values such as case: Saksnummer"),
    ("m.yaml", "case: [", "m.yaml, line 1:"),
]  # fmt: skip


@pytest.mark.parametrize(("file", "text", "message"), BAD, ids=[row[1][:30] for row in BAD])
def test_a_bad_mapping_is_refused_naming_file_key_found_and_allowed(
    file: str, text: str, message: str
) -> None:
    with pytest.raises(LogError) as refused:
        parse_mapping(text, file=file)
    assert str(refused.value).startswith(message)


def test_every_problem_of_a_file_is_told_at_once() -> None:
    with pytest.raises(LogError) as refused:
        parse_mapping("case: 7\nsak: x\ntime_zone: Mars/Olympus", file="m.yaml")
    assert refused.value.where == "line 1" and refused.value.field == "case"
    text = str(refused.value)
    assert "line 2, sak: unknown key" in text and "line 3, time_zone: unknown time zone" in text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("map.json", "{}", "map.json: a mapping file is .toml, .yaml or .yml, not '.json'"),
        ("map.toml", None, "map.toml: no such mapping file"),
        ("map.yml", b"case: \xe6", "map.yml:"),
    ],
)
def test_a_mapping_file_that_cannot_be_read_is_refused(
    tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(LogError) as refused:
        load_mapping(path)
    assert str(refused.value).startswith(message)
