"""The safe, line-aware loader: YAML dialect, limits, files, the library and references."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from boflyt.engine.definition.load import (
    MAX_BYTES,
    BrokenFile,
    LineMap,
    load_lanes,
    load_library,
    load_version,
    parse_ref,
    parse_version,
    parse_yaml,
    read_text,
)
from boflyt.models.errors import DefinitionError, NotFoundError
from boflyt.models.vocabulary import VersionStatus
from tests.engine.definition.snippets import BASE, LANES, edit, write_version


def problem_lines(exc: pytest.ExceptionInfo[DefinitionError]) -> list[str]:
    return [str(problem) for problem in exc.value.problems]


# -- the YAML dialect ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("NO", "NO"),  # the Norway problem: stays a country code
        ("no", "no"),
        ("yes", "yes"),
        ("on", "on"),
        ("off", "off"),
        ("12:30", "12:30"),  # no sexagesimal 750
        ("2024-03-01", "2024-03-01"),  # no implicit date
        ("010", "010"),  # no octal 8
        ("01017012345", "01017012345"),  # a fødselsnummer keeps its leading zero
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("true", True),
        ("False", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("0", 0),
        ("-42", -42),
        ("1.10", 1.1),
        ("2.5e3", 2500.0),
        (".5", 0.5),
        (".inf", ".inf"),  # no infinite durations
        (".nan", ".nan"),
        ("'yes'", "yes"),
    ],
)
def test_only_core_scalars_are_typed(scalar: str, value: object) -> None:
    data, _ = parse_yaml(f"key: {scalar}\n", file="x.yaml")
    assert data == {"key": value}
    assert type(data["key"]) is type(value)


def test_line_map_gives_key_lines_and_falls_back_to_the_parent() -> None:
    _, lines = parse_yaml(BASE, file="x.yaml")
    assert lines.line(("steps", 5, "lane")) == 40
    assert lines.line(("steps", 5)) == 38
    assert lines.line(("transitions", 9, "to")) == 66
    assert lines.line(("steps", 5, "touch_minutes", "low")) == 38  # not written: the step's line
    assert lines[("label",)] == 3
    assert lines.line(()) == 1
    assert lines.known(("steps", 2, "touch_minutes", "low")) == ("steps", 2, "touch_minutes")


def test_every_duplicate_key_is_reported_with_both_lines() -> None:
    text = "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n"
    with pytest.raises(DefinitionError) as caught:
        parse_yaml(text, file="x.yaml")
    assert problem_lines(caught) == [
        "x.yaml:4 b: duplicate key 'c' (first on line 3, again on line 4); "
        "each key may appear once",
        "x.yaml:5: duplicate key 'a' (first on line 1, again on line 5); each key may appear once",
    ]


def test_a_duplicate_key_on_one_line_is_reported() -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_yaml("x: {a: 1, a: 2}\n", file="x.yaml")
    assert problem_lines(caught) == [
        "x.yaml:1 x: duplicate key 'a' (first on line 1, again on line 1); each key may appear once"
    ]


ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_alias_bomb_is_refused_quickly() -> None:
    began = time.perf_counter()
    with pytest.raises(DefinitionError) as caught:
        parse_yaml(ALIAS_BOMB, file="bomb.yaml")
    assert time.perf_counter() - began < 0.1
    assert problem_lines(caught) == [
        "bomb.yaml:1: anchors and aliases (&name, *name) are not allowed"
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("x: !!python/object/apply:os.system ['echo hi']\n", "!!python/object/apply:os.system"),
        ("x: !!python/name:os.system\n", "!!python/name:os.system"),
        ("x: !!str 5\n", "!!str"),
        ("x: !custom {a: 1}\n", "!custom"),
    ],
)
def test_tags_are_refused(text: str, shown: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_yaml(text, file="x.yaml")
    assert problem_lines(caught) == [
        f"x.yaml:1: tags are not allowed (found '{shown}'); write plain values"
    ]


@pytest.mark.parametrize("depth", [100, 10_000, 100_000])
def test_deep_flow_nesting_is_refused_before_parsing(depth: int) -> None:
    text = "x: " + "[" * depth + "]" * depth + "\n"
    began = time.perf_counter()
    with pytest.raises(DefinitionError) as caught:
        parse_yaml(text, file="deep.yaml")
    assert time.perf_counter() - began < 0.5
    assert caught.value.problems[0].message.startswith("nesting deeper than 64 levels")


def _block_nest(depth: int) -> str:
    return "".join("  " * level + f"k{level}:\n" for level in range(depth)) + "  " * depth + "v\n"


def test_block_nesting_limit_is_exact() -> None:
    data, _ = parse_yaml(_block_nest(60), file="ok.yaml")
    assert isinstance(data, dict)
    with pytest.raises(DefinitionError, match="nesting deeper than 64 levels"):
        parse_yaml(_block_nest(70), file="deep.yaml")


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    text = BASE + "# padding\n" * (MAX_BYTES // 10)
    with pytest.raises(DefinitionError) as caught:
        parse_yaml(text, file="big.yaml")
    assert problem_lines(caught) == ["big.yaml:1: file is 257.6 KB; the limit is 256 KB"]
    path = write_version(tmp_path, text)
    with pytest.raises(DefinitionError, match="the limit is 256 KB"):
        load_version(path, lanes=LANES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\n---\nb: 2\n", "x.yaml:2: malformed YAML: expected a single document"),
        (
            "a: [1, 2\n",
            "x.yaml:2: malformed YAML: while parsing a flow sequence (started on line 1)",
        ),
        (
            "a: 'open\n",
            "x.yaml:2: malformed YAML: while scanning a quoted scalar (started on line 1)",
        ),
        ("a: 1\n\tb: 2\n", "x.yaml:2: malformed YAML"),
        ("a: b\x00\n", "x.yaml:1: malformed YAML: special character #x0000 is not allowed"),
    ],
)
def test_malformed_yaml_names_its_line(text: str, expected: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_yaml(text, file="x.yaml")
    assert problem_lines(caught)[0].startswith(expected), problem_lines(caught)


# -- files -------------------------------------------------------------------------------------


def test_load_version_reads_a_valid_file(tmp_path: Path) -> None:
    version = load_version(write_version(tmp_path, BASE), lanes=LANES)
    assert version.key == "test_process@v1"
    assert version.label == "Test"
    assert str(version.date) == "2024-03-01"
    assert version.step("check").wait_days.mode == 2


def test_norwegian_no_stays_text_in_a_version(tmp_path: Path) -> None:
    text = edit(("label: Test", "label: NO"), ("owner: Tests", "owner: 12:30"))
    version = parse_version(text, file="t/v1.yaml", lanes=LANES)
    assert (version.label, version.owner) == ("NO", "12:30")


def test_file_name_and_folder_must_match_the_content(tmp_path: Path) -> None:
    path = write_version(tmp_path, edit(("version: 1", "version: 2")), process="other")
    with pytest.raises(DefinitionError) as caught:
        load_version(path, lanes=LANES)
    assert problem_lines(caught) == [
        "other/v1.yaml:1 process: process 'test_process' does not match its folder 'other'",
        "other/v1.yaml:2 version: version 2 does not match the file name v1.yaml",
    ]
    badly_named = write_version(tmp_path, BASE, name="version1.yaml")
    with pytest.raises(DefinitionError, match=r"must be named v<N>\.yaml"):
        load_version(badly_named, lanes=LANES)


def test_name_problems_come_with_the_other_problems(tmp_path: Path) -> None:
    text = edit(("version: 1", "version: 3"), ("channel: letter", "channel: fax"))
    with pytest.raises(DefinitionError) as caught:
        load_version(write_version(tmp_path, text), lanes=LANES)
    assert [p.line for p in caught.value.problems] == [2, 21]


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such file"):
        load_version(tmp_path / "p" / "v1.yaml", lanes=LANES)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = write_version(tmp_path, "")
    path.write_bytes(b"process: p\nlabel: \xff\xfe\n")
    with pytest.raises(DefinitionError) as caught:
        load_version(path, lanes=LANES)
    assert problem_lines(caught) == ["test_process/v1.yaml:2: the file is not UTF-8 text"]


def test_a_folder_or_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    folder = tmp_path / "p" / "v2.yaml"
    folder.mkdir(parents=True)
    fifo = tmp_path / "p" / "v3.yaml"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    with pytest.raises(DefinitionError) as caught:
        load_version(folder, lanes=LANES)
    assert problem_lines(caught) == ["p/v2.yaml: this is a folder; a definition must be a file"]
    with pytest.raises(DefinitionError, match=r"p/v3\.yaml: this is a named pipe \(FIFO\)"):
        load_version(fifo, lanes=LANES)
    with pytest.raises(DefinitionError, match="named pipe"):
        read_text(fifo)


def skip_if_readable(path: Path) -> None:
    """Root (with its usual capabilities) reads files whatever their mode."""
    if os.access(path, os.R_OK):
        pytest.skip("this user can read files whatever their mode (root)")


def test_an_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    path = write_version(tmp_path, BASE)
    path.chmod(0)
    skip_if_readable(path)
    with pytest.raises(DefinitionError) as caught:
        load_version(path, lanes=LANES)
    assert problem_lines(caught) == [
        "test_process/v1.yaml: the file cannot be read: Permission denied"
    ]


LANES_YAML = """\
lanes:
  - id: tenant
    name: {nb: Søker, en: Applicant}
    outside: true
  - id: housing_office
    name: {nb: Boligkontoret, en: Housing office}
  - id: nav
    name: {nb: NAV, en: NAV}
  - id: landlord
    name: {nb: Utleier, en: Landlord}
    outside: true
"""


def test_load_lanes(tmp_path: Path) -> None:
    (tmp_path / "lanes.yaml").write_text(LANES_YAML, encoding="utf-8")
    assert load_lanes(tmp_path / "lanes.yaml") == LANES


def test_lanes_with_a_duplicate_id_or_a_bad_field_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "lanes.yaml"
    path.write_text(LANES_YAML.replace("id: landlord", "id: nav"), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_lanes(path)
    assert problem_lines(caught) == [
        f"{tmp_path.name}/lanes.yaml:9 lanes[3].id: duplicate lane id 'nav'; first on line 7"
    ]
    path.write_text(LANES_YAML.replace("outside: true", "outside: yes", 1), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r":4 lanes\[0\]\(tenant\).outside: expected true"):
        load_lanes(path)


# -- the library -------------------------------------------------------------------------------


@pytest.fixture
def library_root(tmp_path: Path) -> Path:
    (tmp_path / "lanes.yaml").write_text(LANES_YAML, encoding="utf-8")
    for number, status in ((1, "retired"), (2, "published"), (10, "draft")):
        text = edit(
            ("version: 1", f"version: {number}"), ("status: published", f"status: {status}")
        )
        write_version(tmp_path, text, name=f"v{number}.yaml")
    other = edit(("process: test_process", "process: another"))
    write_version(tmp_path, other, process="another")
    scenarios = tmp_path / "test_process" / "scenarios"
    scenarios.mkdir()
    (scenarios / "default.yaml").write_text("name: default\n", encoding="utf-8")
    return tmp_path


def test_library_lists_processes_and_versions_in_order(library_root: Path) -> None:
    library = load_library(library_root)
    assert library.processes() == ["another", "test_process"]
    assert [v.version for v in library.versions("test_process")] == [1, 2, 10]
    assert library.lanes == LANES


def test_library_get_defaults_to_the_newest_published(library_root: Path) -> None:
    library = load_library(library_root)
    assert library.get("test_process").version == 2
    assert library.get("test_process", 10).status is VersionStatus.DRAFT
    assert library.path("test_process", 10) == library_root / "test_process" / "v10.yaml"
    assert library.scenario_path("test_process") == (
        library_root / "test_process" / "scenarios" / "default.yaml"
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda lib: lib.get("nope"),
            "unknown process 'nope'; known processes: another, test_process",
        ),
        (
            lambda lib: lib.get("test_process", 3),
            "test_process has no version 3; versions: v1 (retired), v2 (published), v10 (draft)",
        ),
        (lambda lib: lib.path("test_process", 4), "test_process has no version 4"),
        (
            lambda lib: lib.scenario_path("test_process", "busy"),
            "test_process has no scenario 'busy'; scenarios: default",
        ),
        (lambda lib: lib.scenario_path("test_process", "../../etc/passwd"), "no scenario"),
        (
            lambda lib: lib.scenario_path("another"),
            "another has no scenario 'default'; scenarios: none",
        ),
    ],
)
def test_library_lookups_name_what_exists(library_root: Path, call, message: str) -> None:
    library = load_library(library_root)
    with pytest.raises(NotFoundError) as caught:
        call(library)
    assert message in str(caught.value)


def test_library_with_nothing_published(library_root: Path) -> None:
    library = load_library(library_root)
    for number in (1, 2):
        path = library_root / "test_process" / f"v{number}.yaml"
        path.write_text(path.read_text().replace("status: published", "status: draft"))
    library = load_library(library_root)
    with pytest.raises(NotFoundError, match="test_process has no published version; versions: v1"):
        library.get("test_process")


def test_a_bad_file_harms_only_itself(library_root: Path) -> None:
    (library_root / "another" / "v1.yaml").write_text(edit(("channel: letter", "channel: fax")))
    (library_root / "test_process" / "v2.yaml").write_text(
        edit(("version: 1", "version: 2"), ("wastes: [waiting]", "wastes: [waitng]"))
    )
    library = load_library(library_root)
    assert library.processes() == ["test_process"]  # "another" has no version that loads
    assert [v.version for v in library.versions("test_process")] == [1, 10]
    assert library.versions("another") == []
    [bad] = library.broken["test_process"]
    assert (bad.name, bad.number) == ("v2.yaml", 2)
    assert [p.file for p in bad.problems] == ["test_process/v2.yaml"]
    assert [p.file for p in library.broken["another"][0].problems] == ["another/v1.yaml"] * 2


def test_asking_for_exactly_the_broken_version_raises_its_problems(library_root: Path) -> None:
    path = library_root / "test_process" / "v10.yaml"
    path.write_text(path.read_text().replace("wastes: [waiting]", "wastes: [waitng]"))
    library = load_library(library_root)
    with pytest.raises(DefinitionError) as caught:
        library.get("test_process", 10)
    assert "test_process/v10.yaml" in problem_lines(caught)[0]
    assert "waitng" in problem_lines(caught)[0]
    assert library.get("test_process").version == 2  # the newest published still works
    assert library.path("test_process", 10) == path
    with pytest.raises(NotFoundError, match=r"versions: v1 \(retired\), v2 \(published\), v10"):
        library.get("test_process", 7)


def _break(folder: Path, how: str) -> Path:
    """Break ``folder`` (a process folder) in one way; the entry that is broken."""
    if how == "bad yaml":
        (folder / "v3.yaml").write_text("process: [unclosed\n", encoding="utf-8")
    elif how == "misnamed":
        (folder / "v3-draft.yaml").write_text(BASE, encoding="utf-8")
        return folder / "v3-draft.yaml"
    elif how == "capitalised":
        (folder / "V3.yaml").write_text(BASE, encoding="utf-8")
        return folder / "V3.yaml"
    elif how == "folder":
        (folder / "v3.yaml").mkdir()
    elif how == "fifo":
        os.mkfifo(folder / "v3.yaml")
    elif how == "dangling link":
        (folder / "v3.yaml").symlink_to(folder / "nowhere.txt")
    return folder / "v3.yaml"


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("bad yaml", "malformed YAML"),
        ("misnamed", "a version file must be named v<N>.yaml"),
        ("capitalised", "a version file must be named v<N>.yaml"),
        ("folder", "this is a folder; a definition must be a file"),
        ("fifo", "this is a named pipe (FIFO); a definition must be a file"),
        ("dangling link", "no such file"),
    ],
)
def test_each_kind_of_broken_file_is_listed_with_its_problem(
    library_root: Path, how: str, message: str
) -> None:
    path = _break(library_root / "test_process", how)
    library = load_library(library_root)
    assert [v.version for v in library.versions("test_process")] == [1, 2, 10]
    assert library.get("another").key == "another@v1"
    [bad] = library.broken["test_process"]
    assert bad == BrokenFile("test_process", path, bad.problems)
    assert message in str(bad.problems[0])
    entries = library.entries("test_process")
    assert entries.index(bad) == (2 if bad.number == 3 else 3)  # by number, misnamed ones last


def test_an_unreadable_file_or_folder_is_broken_not_fatal(library_root: Path) -> None:
    (library_root / "test_process" / "v10.yaml").chmod(0)
    skip_if_readable(library_root / "test_process" / "v10.yaml")
    (library_root / "another").chmod(0)
    try:
        library = load_library(library_root)
    finally:
        (library_root / "another").chmod(0o755)
    assert [v.version for v in library.versions("test_process")] == [1, 2]
    assert "cannot be read: Permission denied" in str(library.broken["test_process"][0])
    assert "cannot be listed" in str(library.broken["another"][0].problems[0])


def test_a_broken_lanes_file_still_fails_the_library(library_root: Path) -> None:
    (library_root / "lanes.yaml").write_text("lanes: [unclosed\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"lanes\.yaml:2: malformed YAML"):
        load_library(library_root)


def test_library_keeps_a_broken_file_in_the_cache_key(library_root: Path) -> None:
    fifo = library_root / "test_process" / "v3.yaml"
    os.mkfifo(fifo)
    first = load_library(library_root)
    assert load_library(library_root) is first
    fifo.unlink()
    fifo.write_text("process: [unclosed\n", encoding="utf-8")
    second = load_library(library_root)
    assert second is not first
    assert "malformed YAML" in str(second.broken["test_process"][0].problems[0])


def test_library_reloads_a_changed_file_and_reuses_an_unchanged_one(library_root: Path) -> None:
    first = load_library(library_root)
    assert load_library(library_root) is first
    path = library_root / "another" / "v1.yaml"
    path.write_text(path.read_text().replace("label: Test", "label: Tess"))
    assert load_library(library_root).get("another").label == "Tess"


def test_a_missing_library_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such process library folder"):
        load_library(tmp_path / "nowhere")
    with pytest.raises(NotFoundError, match=r"lanes\.yaml: no such file"):
        load_library(tmp_path)


# -- references --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("refugee_settlement", ("refugee_settlement", None)),
        ("refugee_settlement@v2", ("refugee_settlement", 2)),
        ("refugee_settlement@2", ("refugee_settlement", 2)),
        (" private_lease@v10 ", ("private_lease", 10)),
    ],
)
def test_parse_ref(ref: str, parsed: tuple[str, int | None]) -> None:
    assert parse_ref(ref) == parsed


@pytest.mark.parametrize(
    "ref", ["", "Refugee", "refugee@", "refugee@v0", "refugee@vx", "a b", "x@v2@v3"]
)
def test_parse_ref_refuses_garbage(ref: str) -> None:
    with pytest.raises(
        NotFoundError, match="is not a process reference; write PROCESS or PROCESS@vN"
    ):
        parse_ref(ref)


def test_line_map_of_an_empty_document() -> None:
    data, lines = parse_yaml("", file="x.yaml")
    assert data is None
    assert lines == LineMap({(): 1})
