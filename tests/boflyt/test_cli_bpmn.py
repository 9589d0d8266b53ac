"""``boflyt bpmn`` through CliRunner, on the real process library."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app

runner = CliRunner()
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def lane_names(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return [lane.get("name", "") for lane in root.iter(f"{BPMN}lane")]


def test_writes_a_version_in_bokmaal_by_default(cli_folder: Path) -> None:
    out = cli_folder / "bosetting.bpmn"
    text = run("bpmn", "refugee_settlement@v2", "-o", str(out))
    assert "16 steg i 7 baner, 18 sekvensflyter" in text and "bosetting.bpmn" in text
    assert "Boligkontoret" in lane_names(out)


def test_english_names_and_the_newest_published_version_without_a_number(
    cli_folder: Path,
) -> None:
    out = cli_folder / "lease.bpmn"
    text = run("bpmn", "private_lease", "--lang", "en", "-o", str(out))
    assert "13 steps in" in text  # private_lease v2 is its newest published version
    assert "Housing office" in lane_names(out)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("refugee_settlement@v9", "refugee_settlement has no version 9; versions: v1"),
        ("no_such_process@v1", "unknown process 'no_such_process'"),
        ("Bad Ref", "'Bad Ref' is not a process reference"),
    ],
)
def test_an_unknown_process_or_version_is_a_one_line_error_and_writes_nothing(
    cli_folder: Path, ref: str, message: str
) -> None:
    out = cli_folder / "x.bpmn"
    text = run("bpmn", ref, "-o", str(out), code=1)
    assert text.startswith("error:") and message in text
    assert not out.exists()


def test_an_unwritable_path_is_a_one_line_error_and_leaves_nothing(cli_folder: Path) -> None:
    missing = cli_folder / "no" / "such" / "folder" / "x.bpmn"
    text = run("bpmn", "private_lease@v1", "-o", str(missing), code=1)
    assert "does not exist" in text and not missing.parent.exists()
    folder = cli_folder / "taken.bpmn"  # a folder where the file should go: the rename fails
    folder.mkdir()
    text = run("bpmn", "private_lease@v1", "-o", str(folder), code=1)
    assert "cannot write the file" in text and "nothing was written" in text
    assert sorted(p.name for p in cli_folder.iterdir() if p.name.endswith((".bpmn", ".tmp"))) == [
        "taken.bpmn"
    ]
    assert list(folder.iterdir()) == []
