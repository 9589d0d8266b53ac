"""``boflyt version publish`` and ``boflyt version retire`` on a copy of the process library."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app
from tests.boflyt.conftest import PROCESSES

runner = CliRunner()


@pytest.fixture
def library(cli_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the library with draft private_lease v3 (v2 renumbered), used by the CLI."""
    copy = cli_folder / "processes"
    shutil.copytree(PROCESSES, copy)
    text = (copy / "private_lease" / "v2.yaml").read_text(encoding="utf-8")
    text = text.replace("version: 2\n", "version: 3\n", 1).replace("based_on: 1\n", "based_on: 2\n")
    (copy / "private_lease" / "v3.yaml").write_text(text.replace("status: published\n", ""))
    monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(copy))
    return copy


def test_a_draft_is_published_and_then_retired(library: Path) -> None:
    done = runner.invoke(app, ["version", "publish", "private_lease", "3", "--owner", "pia",
                               "--lang", "en"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "private_lease v3 is published. (draft → published;" in done.output
    text = (library / "private_lease" / "v3.yaml").read_text()
    assert "version: 3\nstatus: published\n" in text and 'owner: "pia"\n' in text
    retired = runner.invoke(app, ["version", "retire", "private_lease", "3", "--owner", "pia"])
    assert retired.exit_code == 0, retired.output
    assert "private_lease v3 er trukket tilbake." in retired.output
    assert "status: retired  # retired " in (library / "private_lease" / "v3.yaml").read_text()


def test_refusals_are_one_line_and_change_nothing(library: Path) -> None:
    before = (library / "private_lease" / "v2.yaml").read_bytes()
    refused = runner.invoke(app, ["version", "publish", "private_lease", "2"])
    assert refused.exit_code == 1
    assert "private_lease@v2 is published; only a draft version can be published" in (
        refused.output
    )
    assert (library / "private_lease" / "v2.yaml").read_bytes() == before
