"""The process owner's commands (validate, show, diff, versions, schema) through CliRunner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.engine.definition.diff import diff_versions
from boflyt.engine.definition.graph import flow_order, handoffs
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.schema import schema_text

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
LIBRARY = load_library(PROCESSES)
runner = CliRunner()


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide terminal, the real library, English labels unless a test asks otherwise."""
    monkeypatch.setenv("COLUMNS", "220")
    monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(PROCESSES))
    monkeypatch.delenv("BOFLYT_LANG", raising=False)


@pytest.fixture
def draft_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the library with a broken draft private_lease/v3.yaml (two problems)."""
    root = tmp_path / "processes"
    shutil.copytree(PROCESSES, root)
    text = (root / "private_lease" / "v2.yaml").read_text(encoding="utf-8")
    text = text.replace("version: 2\n", "version: 3\n", 1).replace(
        "status: published", "status: draft"
    )
    text = text.replace("\n    lane: nav\n", "\n    lane: navv\n", 1)
    text = text.replace(
        "outcome: approved, probability: 0.85", "outcome: approved, probability: 0.9"
    )
    (root / "private_lease" / "v3.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(root))
    return root


def _run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if needle in line)


# --- validate ------------------------------------------------------------------------------


def test_validate_passes_the_whole_library() -> None:
    out = _run("validate", "--lang", "en")
    version_files = sorted(PROCESSES.glob("*/v*.yaml"))
    assert version_files
    for path in version_files:
        assert f"✓ {path}" in out or f"✓ {path.relative_to(Path.cwd())}" in out
    assert "✗" not in out
    assert "with problems" not in out


def test_validate_reports_every_problem_with_file_and_line(draft_library: Path) -> None:
    v3 = draft_library / "private_lease" / "v3.yaml"
    out = _run("validate", str(draft_library / "private_lease"), "--lang", "en", code=1)
    lane_line = _line_of(v3, "lane: navv")
    approved_line = _line_of(v3, "- id: view_dwelling")
    assert f"private_lease/v3.yaml:{lane_line} steps[" in out
    assert "(nav_deposit_guarantee).lane: unknown lane 'navv' (did you mean 'nav'?)" in out
    assert f"private_lease/v3.yaml:{approved_line} steps[" in out
    assert "sum to 1.05, not 1" in out
    assert ": 2 problems" in out
    assert "✓" in out and "v2.yaml" in out  # the good files of the folder are listed too
    assert "1 with problems (2 problems in all)" in out.splitlines()[-1]


def test_validate_one_good_file_in_bokmal(draft_library: Path) -> None:
    out = _run("validate", str(draft_library / "private_lease" / "v1.yaml"))
    assert out.splitlines()[-1] == "1 fil sjekket: 1 gyldig"


def test_validate_a_missing_path_is_one_clear_error() -> None:
    result = runner.invoke(app, ["validate", "no/such/folder"])
    assert result.exit_code == 1
    assert "no/such/folder: no such file or folder" in result.output
    assert "Traceback" not in result.output


# --- show ----------------------------------------------------------------------------------


def test_show_lists_steps_in_flow_order_and_marks_every_handoff() -> None:
    version = LIBRARY.get("private_lease", 2)
    out = _run("show", "private_lease@v2", "--lang", "en")
    assert "private_lease@v2 · " in out
    assert version.content_hash[:12] in out
    positions = [out.index(f"{n}. {step.id}") for n, step in enumerate(flow_order(version), 1)]
    assert positions == sorted(positions)
    # one ↪ per handoff row, plus the legend of the count line
    assert out.count("↪") == len(handoffs(version)) + 1
    assert f"{len(handoffs(version))} handoffs (↪)" in out
    assert "Private landlord" in out  # lane labels in English


def test_show_defaults_to_bokmal_and_the_newest_published_version(draft_library: Path) -> None:
    out = _run("show", "private_lease")  # v3 is a broken draft: v2 is shown, v3 ignored
    assert "private_lease@v2 · " in out
    assert "Privat utleier" in out
    assert "Steg i flytrekkefølge" in out


def test_show_on_a_narrow_terminal_lists_the_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = _run("show", "refugee_settlement@v1", "--lang", "en")
    assert "Steps in flow order" in out
    assert "1. start — " in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_show_a_broken_version_prints_its_problems(draft_library: Path) -> None:
    result = runner.invoke(app, ["show", "private_lease@v3"])
    assert result.exit_code == 1
    assert "unknown lane 'navv'" in result.output
    assert "2 problems; fix the file and try again" in result.output


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nope", "unknown process 'nope'; known processes: eviction_prevention"),
        ("private_lease@v9", "private_lease has no version 9; versions: v1 (published)"),
        ("Private-Lease", "'Private-Lease' is not a process reference"),
    ],
)
def test_show_bad_reference_is_one_clear_line(ref: str, message: str) -> None:
    result = runner.invoke(app, ["show", ref])
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


# --- diff ----------------------------------------------------------------------------------


def test_diff_explains_the_redesign() -> None:
    before, after = LIBRARY.get("private_lease", 1), LIBRARY.get("private_lease", 2)
    expected = diff_versions(before, after)
    out = _run("diff", "private_lease", "1", "v2", "--lang", "en")
    assert out.splitlines()[0] == f"private_lease@v1 → private_lease@v2: {expected.summary()}"
    assert f"Handoffs: {expected.handoffs_before} → {expected.handoffs_after}" in out
    for step in expected.steps_removed + expected.steps_added:
        assert f"{step.id} (" in out


def test_diff_of_a_version_with_itself_says_nothing_changed() -> None:
    out = _run("diff", "eviction_prevention", "v2", "V2")
    assert out.splitlines() == [
        "eviction_prevention@v2 → eviction_prevention@v2: ingen endring i flyten",
        "Ingen endring i flyten.",
    ]


def test_diff_with_a_bad_version_is_one_clear_line() -> None:
    result = runner.invoke(app, ["diff", "private_lease", "first", "2"])
    assert result.exit_code == 1
    assert "'first' is not a version; write a number such as 2 or v2" in result.output


# --- versions and schema -------------------------------------------------------------------


def test_versions_lists_status_label_and_hash(draft_library: Path) -> None:
    out = _run("versions", "--lang", "en")
    for process in LIBRARY.processes():
        assert process in out
        for version in LIBRARY.versions(process):
            assert version.content_hash[:12] in out
            assert version.label in out
    # the broken draft is listed, not hidden, with its first problem
    assert "✗ broken" in out
    row = next(line for line in out.splitlines() if "v3.yaml" in line)
    assert "✗ broken" in row and "private_lease/v3.yaml:" in row


def test_versions_in_bokmal_calls_a_broken_file_odelagt(draft_library: Path) -> None:
    assert "✗ ødelagt" in _run("versions", "private_lease")


def test_versions_of_an_unknown_process() -> None:
    result = runner.invoke(app, ["versions", "nope"])
    assert result.exit_code == 1
    assert "unknown process 'nope'" in result.output


def test_schema_prints_and_writes_the_version_schema(tmp_path: Path) -> None:
    assert json.loads(_run("schema")) == json.loads(schema_text())
    target = tmp_path / "schema.json"
    _run("schema", "-o", str(target))
    assert target.read_text(encoding="utf-8") == schema_text()
    lanes = json.loads(_run("schema", "--lanes"))
    assert lanes["title"] == "Boflyt lane catalogue"


@pytest.mark.parametrize("command", ["validate", "show", "diff", "versions", "schema"])
def test_every_command_has_help(command: str) -> None:
    out = _run(command, "--help")
    assert "Usage:" in out
    assert "--lang" in out or command == "schema"
