"""The main job, end to end: ``boflyt demo`` simulates, compares and writes the reports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.engine.db import make_engine
from boflyt.engine.store import event_frame
from boflyt.models.vocabulary import Mode

pytestmark = pytest.mark.usefixtures("prefect_harness")

PROCESSES = ("private_lease", "refugee_settlement", "eviction_prevention")


@pytest.fixture
def demo_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    dirs = {"data": tmp_path / "data", "reports": tmp_path / "reports"}
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(dirs["data"]))
    monkeypatch.setenv("BOFLYT_REPORTS_DIR", str(dirs["reports"]))
    monkeypatch.setenv("COLUMNS", "160")
    return dirs


def test_demo_simulates_compares_and_reports_every_process(
    demo_dirs: dict[str, Path],
) -> None:
    result = CliRunner().invoke(app, ["demo", "--cases", "30", "--lang", "en"])

    assert result.exit_code == 0, result.output
    index = (demo_dirs["reports"] / "index.html").read_text(encoding="utf-8")
    for process in PROCESSES:
        assert f'href="{process}.html"' in index
        assert "<svg" in (demo_dirs["reports"] / f"{process}.html").read_text(encoding="utf-8")
    assert str((demo_dirs["reports"] / "index.html").resolve()) in result.output.replace("\n", "")
    # the summary table shows a "before → after" pair for each process and measure
    assert len(re.findall(r"\d+\.\d → \d+\.\d", result.output)) == 3 * 4

    engine = make_engine(f"sqlite:///{demo_dirs['data'] / 'boflyt.db'}")
    events = event_frame(engine, mode=Mode.SIMULATED)
    engine.dispose()
    versions = set(events.select("process", "version").unique().iter_rows())
    assert versions == {(process, number) for process in PROCESSES for number in (1, 2)}
    started = events.filter(events["kind"] == "case_started").group_by("process", "version").len()
    assert set(started["len"].to_list()) == {30}
