"""``boflyt draw --timeline --runs``: the measured value stream of a run set from the CLI."""

from __future__ import annotations

from pathlib import Path

from tests.boflyt.test_cli_diagrams import pytestmark, run, settings

__all__ = ["pytestmark", "settings"]  # the module's skip and its workspace fixture


def test_draw_the_measured_timeline_of_a_simulation_and_of_both_versions(tmp_path: Path) -> None:
    for ref in ("private_lease@v1", "private_lease@v2"):
        run("simulate", ref, "--cases", "12", "--seed", "5", "--no-prefect")
    one = tmp_path / "one.svg"
    run("draw", "private_lease@v2", "--timeline", "--runs", "simulated:2", "-o", str(one))
    svg = one.read_text(encoding="utf-8")
    assert svg.count("Målt i 12 saker") == 1 and "simulert: kjøring 2" in svg
    assert "Forventet per sak" not in svg and "Samlet %K&amp;N" not in svg
    both = tmp_path / "both.svg"
    run("draw", "private_lease@v2", "--compare", "v1", "--timeline", "--runs", "simulated:1",
        "--runs", "simulated:2", "-o", str(both), "--lang", "en")  # fmt: skip
    assert both.read_text(encoding="utf-8").count("Measured in 12 cases") == 2


def test_a_measured_timeline_needs_five_finished_cases(tmp_path: Path) -> None:
    run("simulate", "private_lease@v1", "--cases", "3", "--seed", "5", "--no-prefect")
    text = run("draw", "private_lease@v1", "--timeline", "--runs", "simulated:1",
               "-o", str(tmp_path / "x.svg"), code=1)  # fmt: skip
    assert "fewer than 5 finished cases of private_lease@v1" in text
    assert not (tmp_path / "x.svg").exists()
