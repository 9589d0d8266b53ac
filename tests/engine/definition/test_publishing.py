"""Publishing a draft and retiring a published version: only the status (and for a publish the
owner and date) lines of the file change; refusals write nothing."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from boflyt.engine.definition import publishing
from boflyt.engine.definition.load import load_lanes, load_version
from boflyt.engine.definition.publishing import publish, retire
from boflyt.models.errors import ConflictError, DefinitionError, NotFoundError
from boflyt.models.vocabulary import VersionStatus
from boflyt.workspace import shipped_library

NOW = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the shipped library with a draft ``private_lease/v3.yaml`` made from v2."""
    copy = tmp_path / "processes"
    shutil.copytree(shipped_library(), copy)
    v2 = (copy / "private_lease" / "v2.yaml").read_text(encoding="utf-8")
    draft = (
        v2.replace("version: 2\n", "version: 3\n", 1)
        .replace("based_on: 1\n", "based_on: 2\n", 1)
        .replace("status: published\n", "status: draft  # being written\n", 1)
    )
    (copy / "private_lease" / "v3.yaml").write_text(draft, encoding="utf-8")
    return copy


def _file(root: Path, number: int) -> Path:
    return root / "private_lease" / f"v{number}.yaml"


def _changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_publishing_a_draft_changes_only_its_status_owner_and_date_lines(root: Path) -> None:
    before = _file(root, 3).read_text(encoding="utf-8")
    change = publish(root, "private_lease", 3, "pia", NOW)
    after = _file(root, 3).read_text(encoding="utf-8")
    assert _changed_lines(before, after) == [
        ("status: draft  # being written", "status: published"),
        ("owner: Boligkontoret, Larvik kommune", 'owner: "pia"'),
        ('date: "2024-09-02"', 'date: "2026-12-03"'),
    ]
    loaded = load_version(_file(root, 3), lanes=load_lanes(root / "lanes.yaml"))
    assert loaded == change.version
    assert (loaded.status, loaded.owner, loaded.date) == ("published", "pia", dt.date(2026, 12, 3))
    assert (change.before, change.after) == (VersionStatus.DRAFT, VersionStatus.PUBLISHED)
    assert [p.name for p in _file(root, 3).parent.iterdir() if p.name.startswith(".")] == []


def test_a_draft_without_a_status_line_gets_one_after_its_version_line(root: Path) -> None:
    path = _file(root, 3)
    path.write_text(path.read_text().replace("status: draft  # being written\n", ""))
    publish(root, "private_lease", 3, 'Åse "Sjef" Ødegård', NOW)
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index("version: 3")
    assert lines[at + 1] == "status: published"
    assert 'owner: "Åse \\"Sjef\\" Ødegård"' in lines
    assert load_version(path, lanes=load_lanes(root / "lanes.yaml")).owner == 'Åse "Sjef" Ødegård'


def test_a_folded_owner_becomes_one_line(root: Path) -> None:
    path = _file(root, 3)
    text = path.read_text().replace(
        "owner: Boligkontoret, Larvik kommune\n", "owner: >\n  Boligkontoret,\n  Larvik kommune\n"
    )
    path.write_text(text)
    publish(root, "private_lease", 3, "pia", NOW)
    after = path.read_text()
    assert 'owner: "pia"\ndate: "2026-12-03"\n' in after and "  Larvik kommune\n" not in after


def test_a_draft_with_problems_is_not_published_and_every_problem_is_named(root: Path) -> None:
    path = _file(root, 3)
    broken = path.read_text().replace("lane: tenant\n", "lane: tennant\n", 1)
    broken = broken.replace("to: joint_assessment}", "to: joint_asessment}", 1)
    path.write_text(broken)
    with pytest.raises(DefinitionError) as caught:
        publish(root, "private_lease", 3, "pia", NOW)
    messages = [f"{p.line} {p.message}" for p in caught.value.problems]
    assert any("unknown lane 'tennant'" in m for m in messages), messages
    assert any("unknown step 'joint_asessment'" in m for m in messages), messages
    assert all(p.line > 0 for p in caught.value.problems)
    assert path.read_text() == broken


@pytest.mark.parametrize(
    ("act", "number", "error", "message"),
    [
        (publish, 2, ConflictError, "private_lease@v2 is published; only a draft version"),
        (retire, 3, ConflictError, "private_lease@v3 is draft; only a published version"),
        (publish, 9, NotFoundError, "v9.yaml: no such version file"),
        (retire, 0, NotFoundError, "no version 0; version numbers start at 1"),
    ],
)
def test_refusals_say_what_and_where_and_write_nothing(
    root: Path, act, number: int, error: type[Exception], message: str
) -> None:
    before = {p: p.read_bytes() for p in (root / "private_lease").glob("v*.yaml")}
    with pytest.raises(error, match=message.replace(".", r"\.")):
        act(root, "private_lease", number, "pia", NOW)
    assert {p: p.read_bytes() for p in (root / "private_lease").glob("v*.yaml")} == before


def test_a_process_name_cannot_leave_the_library(root: Path) -> None:
    with pytest.raises(NotFoundError, match="a process id is snake_case"):
        publish(root, "../private_lease", 3, "pia", NOW)


def test_an_empty_owner_is_refused(root: Path) -> None:
    with pytest.raises(DefinitionError, match="owner must be 1–200 characters, not 0"):
        publish(root, "private_lease", 3, "  ", NOW)


def test_retiring_changes_only_the_status_line_and_says_who_and_when(root: Path) -> None:
    before = _file(root, 2).read_text()
    change = retire(root, "private_lease", 2, "pia", NOW)
    assert _changed_lines(before, _file(root, 2).read_text()) == [
        ("status: published", "status: retired  # retired 2026-12-03 by pia")
    ]
    assert change.version.status is VersionStatus.RETIRED
    with pytest.raises(ConflictError, match="is retired; only a published version"):
        retire(root, "private_lease", 2, "pia", NOW)


def test_a_published_draft_can_be_retired_but_never_published_again(root: Path) -> None:
    publish(root, "private_lease", 3, "pia", NOW)
    with pytest.raises(ConflictError):
        publish(root, "private_lease", 3, "pia", NOW)
    assert retire(root, "private_lease", 3, "pia", NOW).before is VersionStatus.PUBLISHED


def test_a_file_changed_while_publishing_is_not_overwritten(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(root, 3)
    checked = publishing._checked

    def meanwhile(*args, **kw):  # another owner saves the draft between read and write
        found = checked(*args, **kw)
        path.write_text(path.read_text() + "# edited meanwhile\n")
        return found

    monkeypatch.setattr(publishing, "_checked", meanwhile)
    with pytest.raises(ConflictError, match="the file changed while"):
        publish(root, "private_lease", 3, "pia", NOW)
    assert path.read_text().endswith("# edited meanwhile\n")
    assert "status: draft" in path.read_text()
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
