"""``boflyt draw`` and ``boflyt report`` through CliRunner, on the real process library."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
runner = CliRunner()

pytestmark = pytest.mark.skipif(
    not (PROCESSES / "private_lease" / "v2.yaml").is_file(), reason="private_lease not written yet"
)


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(PROCESSES))
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BOFLYT_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("BOFLYT_LANG", raising=False)
    monkeypatch.delenv("BOFLYT_RENDERER", raising=False)


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_draw_a_swimlane_as_svg(tmp_path: Path) -> None:
    out = tmp_path / "v1.svg"
    text = run("draw", "private_lease@v1", "-o", str(out))
    assert "tegnet med pure" in text  # bokmål by default
    svg = out.read_text(encoding="utf-8")
    assert 'id="lane&#45;housing_office"' in svg and "Boligkontoret" in svg


def test_draw_before_after_as_png_in_english(tmp_path: Path) -> None:
    out = tmp_path / "cmp.png"
    run("draw", "private_lease@v2", "--compare", "v1", "--lang", "en", "-o", str(out))
    assert out.read_bytes().startswith(b"\x89PNG")


def test_draw_the_timeline_of_both_versions(tmp_path: Path) -> None:
    out = tmp_path / "tl.svg"
    run("draw", "private_lease@v2", "--compare", "v1", "--timeline", "-o", str(out))
    svg = out.read_text(encoding="utf-8")
    assert svg.count('id="axes_') == 2 and "Gjennomløpstid" in svg


def test_bad_suffix_version_and_missing_renderer_are_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "unsupported output suffix" in run(
        "draw", "private_lease@v1", "-o", str(tmp_path / "x.pdf"), code=1
    )
    assert "has no version 9" in run(
        "draw", "private_lease@v9", "-o", str(tmp_path / "x.svg"), code=1
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "no Graphviz renderer found (renderer=dot)" in run(
        "draw", "private_lease@v1", "--renderer", "dot", "-o", str(tmp_path / "x.svg"), code=1
    )


def test_observed_needs_recorded_runs(tmp_path: Path) -> None:
    text = run("draw", "private_lease@v1", "--observed", "-o", str(tmp_path / "x.svg"), code=1)
    assert "no runs of private_lease@v1 in 'live' (registered (n=0))" in text


def test_draw_and_report_name_the_run_sets_they_stand_on(tmp_path: Path) -> None:
    for ref in ("private_lease@v1", "private_lease@v2"):
        run("simulate", ref, "--cases", "15", "--seed", "5", "--no-prefect")
    run("draw", "private_lease@v2", "--runs", "simulated:2", "-o", str(tmp_path / "w.svg"))
    svg = (tmp_path / "w.svg").read_text(encoding="utf-8")
    assert "ventetid (arbeidsdager), simulert: kjøring 2, frø 5, 15 saker" in svg
    assert "målt" not in svg
    wrong = run("draw", "private_lease@v1", "--runs", "simulated:2", "-o", str(tmp_path / "x.svg"),
                code=1)  # fmt: skip
    assert "simulated:2 is a simulation of private_lease@v2" in wrong
    run("report", "private_lease", "-b", "v1", "-a", "v2", "--runs", "simulated:1",
        "--runs", "simulated:2", "-o", str(tmp_path / "r.html"))  # fmt: skip
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Før (private_lease@v1): simulert: kjøring 1, frø 5, 15 saker" in html
    assert "Simulerte verdier per avsluttet sak" in html and "målt" not in html.lower()


def test_report_goes_to_the_reports_folder_by_default(tmp_path: Path) -> None:
    text = run("report", "private_lease", "--before", "v1", "--after", "v2", "--lang", "en")
    path = tmp_path / "reports" / "private_lease.html"
    assert str(path) in text.replace("\n", "")
    html = path.read_text(encoding="utf-8")
    assert "Design metrics (expected per case)" in html
    assert "handoffs" in text
