"""The main job, end to end: ``boflyt demo`` simulates, compares and writes the reports."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.engine.store.commands import event_frame
from boflyt.engine.store.db import make_engine, read_scope
from boflyt.models.vocabulary import Mode

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]  # runs the demo

PROCESSES = ("private_lease", "refugee_settlement", "eviction_prevention")
TABLES = ("simulation_run", "case_run", "work_item", "event", "published_version", "store_meta")


@pytest.fixture
def demo_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    dirs = {"data": tmp_path / "data", "reports": tmp_path / "reports"}
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(dirs["data"]))
    monkeypatch.setenv("BOFLYT_REPORTS_DIR", str(dirs["reports"]))
    monkeypatch.setenv("COLUMNS", "160")
    return dirs


def rows(data: Path) -> dict[str, int]:
    engine = make_engine(f"sqlite:///{data / 'boflyt.db'}")
    with read_scope(engine) as conn:
        found = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
    engine.dispose()
    return found


def visible(page: str) -> str:
    """The text a reader sees: no script, style or tag attributes (ids such as
    ``observed-metrics`` are not text)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_demo_simulates_compares_and_reports_every_process(
    demo_dirs: dict[str, Path],
) -> None:
    result = CliRunner().invoke(app, ["demo", "--cases", "12", "--lang", "en"])

    assert result.exit_code == 0, result.output
    index = (demo_dirs["reports"] / "index.html").read_text(encoding="utf-8")
    for process in PROCESSES:
        page = (demo_dirs["reports"] / f"{process}.html").read_text(encoding="utf-8")
        assert f'href="{process}.html"' in index and "<svg" in page
        text = visible(page).lower()
        assert "simulated: run" in text and "observed" not in text and "measured" not in text
    assert str((demo_dirs["reports"] / "index.html").resolve()) in result.output.replace("\n", "")
    # the summary table shows a "before → after" pair for each process and measure
    assert len(re.findall(r"\d+\.\d → \d+\.\d", result.output)) == 3 * 4
    assert "Simulated runs (seed 1; boflyt runs list): eviction_prevention run 1 → 2" in " ".join(
        result.output.split()
    )

    engine = make_engine(f"sqlite:///{demo_dirs['data'] / 'boflyt.db'}")
    events = event_frame(engine, mode=Mode.SIMULATED)
    engine.dispose()
    versions = set(events.select("process", "version").unique().iter_rows())
    assert versions == {(process, number) for process in PROCESSES for number in (1, 2)}
    started = events.filter(events["kind"] == "case_started").group_by("process", "version").len()
    assert set(started["len"].to_list()) == {12}
    assert not list((demo_dirs["data"] / "simulations").iterdir())  # no summary files left


def test_a_second_demo_replaces_the_first_and_the_store_keeps_its_size(
    demo_dirs: dict[str, Path],
) -> None:
    runner = CliRunner()
    simulated = runner.invoke(app, ["simulate", "private_lease@v1", "-n", "5", "--no-prefect"])
    assert simulated.exit_code == 0, simulated.output  # someone's own simulation: kept
    first = runner.invoke(app, ["demo", "--cases", "10"])
    assert first.exit_code == 0, first.output
    store = demo_dirs["data"] / "boflyt.db"
    after_one, size_one = rows(demo_dirs["data"]), store.stat().st_size
    second = runner.invoke(app, ["demo", "--cases", "10"])
    assert second.exit_code == 0, second.output
    after_two, size_two = rows(demo_dirs["data"]), store.stat().st_size
    assert after_two == after_one
    assert after_one["simulation_run"] == 6 + 1
    assert size_two <= size_one * 1.05, (size_one, size_two)
    page = (demo_dirs["reports"] / "private_lease.html").read_text(encoding="utf-8")
    assert "målt" not in page.lower() and "observert" not in page.lower()
    assert "simulert: kjøring 10, frø 1, 10 saker" in visible(page)  # the second demo's sets
    listed = runner.invoke(app, ["runs", "list", "--process", "private_lease"]).output
    assert "simulated:1 " in listed and "simulated:10" in listed and "simulated:4 " not in listed
