"""Writing version files: new drafts, saving with a content hash, uploads; nothing written when
a text breaks a rule, the file changed meanwhile, or the version is published."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path

import pytest

from boflyt.engine.definition.authoring import (
    check_text,
    content_hash,
    new_draft,
    next_number,
    read_draft,
    save_draft,
    stamp,
    upload_draft,
)
from boflyt.engine.definition.load import load_lanes, load_library
from boflyt.models.errors import ConflictError, DefinitionError, NotFoundError
from boflyt.models.vocabulary import VersionStatus

REPO = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def processes(tmp_path: Path) -> Path:
    """A copy of the repository's process library."""
    target = tmp_path / "processes"
    shutil.copytree(REPO / "processes", target)
    return target


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_new_draft_from_v2_is_v3_draft_based_on_v2_with_owner_and_date(processes: Path) -> None:
    draft = new_draft(processes, "private_lease", 2, "eva", NOW)
    assert (draft.number, draft.path.name) == (3, "v3.yaml")
    version = load_library(processes).get("private_lease", 3)
    assert version.status is VersionStatus.DRAFT
    assert (version.based_on, version.owner, version.date) == (2, "eva", dt.date(2026, 12, 3))
    assert draft.text.startswith("# Private lease intake")  # comments kept
    assert draft.hash == content_hash(draft.path.read_text(encoding="utf-8"))


def test_new_draft_from_v1_when_v2_exists_is_still_the_next_number(processes: Path) -> None:
    assert new_draft(processes, "private_lease", 1, "eva", NOW).number == 3
    assert new_draft(processes, "private_lease", 1, "eva", NOW).number == 4
    assert next_number(processes, "private_lease") == 5


def test_new_draft_of_unknown_version_or_process_is_not_found(processes: Path) -> None:
    with pytest.raises(NotFoundError):
        new_draft(processes, "private_lease", 9, "eva", NOW)
    with pytest.raises(NotFoundError):
        new_draft(processes, "nowhere", 1, "eva", NOW)


@pytest.mark.parametrize("process", ["..", "../processes", "private_lease/..", ""])
def test_a_process_that_is_not_an_id_is_never_a_path(processes: Path, process: str) -> None:
    text = (processes / "private_lease" / "v2.yaml").read_text(encoding="utf-8")
    before = sorted(p.name for p in processes.parent.rglob("*"))
    with pytest.raises(NotFoundError):
        upload_draft(processes, process, text, "eva", NOW)
    assert sorted(p.name for p in processes.parent.rglob("*")) == before


def test_save_draft_writes_the_text_stamped_when_the_hash_matches(processes: Path) -> None:
    draft = new_draft(processes, "private_lease", 2, "eva", NOW)
    later = NOW + dt.timedelta(days=2)
    text = draft.text.replace("label: LEAN til-å-være", "label: LEAN, runde to")
    saved = save_draft(draft.path, text, draft.hash, "ola", later)
    assert "label: LEAN, runde to" in saved.text
    version = load_library(processes).get("private_lease", 3)
    assert (version.label, version.owner, version.date) == ("LEAN, runde to", "ola", later.date())


def test_save_draft_with_a_stale_hash_is_a_conflict_naming_who_and_nothing_is_written(
    processes: Path,
) -> None:
    draft = new_draft(processes, "private_lease", 2, "eva", NOW)
    save_draft(
        draft.path, draft.text.replace("label: LEAN", "label: Kari"), draft.hash, "kari", NOW
    )
    before = draft.path.read_bytes()
    with pytest.raises(ConflictError, match=r"changed since you loaded it, by kari"):
        save_draft(draft.path, draft.text.replace("label: LEAN", "label: Ola"), draft.hash,
                   "ola", NOW)  # fmt: skip
    assert draft.path.read_bytes() == before


def test_published_version_is_never_edited(processes: Path) -> None:
    path = processes / "private_lease" / "v2.yaml"
    current = read_draft(path)
    with pytest.raises(ConflictError, match="published; published and retired versions are never"):
        save_draft(path, current.text, current.hash, "eva", NOW)
    assert read_draft(path).hash == current.hash


def test_save_draft_refuses_every_problem_with_line_place_and_message(processes: Path) -> None:
    draft = new_draft(processes, "private_lease", 2, "eva", NOW)
    broken = draft.text.replace("lane: nav\n", "lane: navv\n", 1)
    broken = broken.replace("to: move_in}", "to: move_inn}", 1)
    with pytest.raises(DefinitionError) as caught:
        save_draft(draft.path, broken, draft.hash, "eva", NOW)
    lines = broken.split("\n")
    found = {p.message.split(" (")[0].split(";")[0]: p for p in caught.value.problems}
    lane, step = found["unknown lane 'navv'"], found["unknown step 'move_inn'"]
    assert "navv" in lines[lane.line - 1] and lane.where.endswith(".lane")
    assert "move_inn" in lines[step.line - 1] and step.where.startswith("transitions[")
    assert draft.path.read_text(encoding="utf-8") == draft.text


def test_check_text_refuses_another_process_number_or_status(processes: Path) -> None:
    lanes = load_lanes(processes / "lanes.yaml")
    text = (processes / "private_lease" / "v2.yaml").read_text(encoding="utf-8")
    version, problems = check_text(text, process="private_lease", number=2, lanes=lanes)
    assert version is None
    assert [(p.where, p.message.split(";")[0]) for p in problems] == [
        ("status", "status 'published' in a draft")
    ]
    _, problems = check_text(text, process="eviction_prevention", number=5, lanes=lanes)
    assert {p.where for p in problems} == {"process", "version", "status"}


def test_check_text_reports_a_yaml_syntax_error_at_its_line(processes: Path) -> None:
    lanes = load_lanes(processes / "lanes.yaml")
    version, problems = check_text("process: p\nversion: [1\n", process="p", number=1, lanes=lanes)
    assert version is None and problems and problems[0].line >= 2


def test_upload_writes_the_next_draft_and_refuses_a_bad_text(processes: Path) -> None:
    text = (processes / "private_lease" / "v2.yaml").read_text(encoding="utf-8")
    draft = upload_draft(processes, "private_lease", text, "eva", NOW)
    assert draft.number == 3
    assert load_library(processes).get("private_lease", 3).status is VersionStatus.DRAFT
    before = _files(processes / "private_lease")
    with pytest.raises(DefinitionError):
        upload_draft(processes, "private_lease", text.replace("kind: end", "kind: ending"), "eva",
                     NOW)  # fmt: skip
    assert _files(processes / "private_lease") == before


def test_two_owners_saving_at_once_one_wins_one_gets_a_conflict(processes: Path) -> None:
    draft = new_draft(processes, "private_lease", 2, "eva", NOW)
    outcomes: list[str] = []

    def save(owner: str) -> None:
        try:
            save_draft(draft.path, draft.text.replace("label: LEAN", f"label: {owner}"), draft.hash,
                       owner, NOW)  # fmt: skip
            outcomes.append("saved")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(name,)) for name in ("eva", "ola")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "saved"]


def test_stamp_replaces_a_folded_value_and_adds_a_missing_key() -> None:
    text = "process: p\nversion: 1\nowner: >\n  Old\n  owner\nname: x\n"
    assert stamp(text, owner="Kari Nordmann", based_on=None) == (
        'process: p\nversion: 1\nbased_on: null\nowner: "Kari Nordmann"\nname: x\n'
    )
