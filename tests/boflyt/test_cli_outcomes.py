"""``boflyt analyse`` shows the declared outcome metrics: designed, and per source of the log."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console
from typer.testing import CliRunner

from boflyt.analysis.outcomes import designed_outcomes, logged_outcomes, outcome_table
from boflyt.analysis.simulation.cohort import simulate
from boflyt.cli import app
from boflyt.commands import analysis as analysis_commands
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
LIBRARY = load_library(PROCESSES)
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("cli_folder")


def test_analyse_shows_the_designed_outcome_metrics_in_bokmal_and_english() -> None:
    nb = runner.invoke(app, ["analyse", "eviction_prevention@v1"])
    assert nb.exit_code == 0, nb.output
    assert "Resultatmål: eviction_prevention@v1" in nb.output
    assert "Andel utkastet" in nb.output and "9,9 %" in nb.output
    assert "Andel med begjæring om fravikelse" in nb.output and "39,8 %" in nb.output
    assert "86,4 d (i 48,2 % av sakene)" in nb.output
    en = runner.invoke(app, ["analyse", "eviction_prevention@v2", "--lang", "en"])
    assert "Outcome metrics: eviction_prevention@v2" in en.output
    assert "Time to first NAV contact" in en.output and "8.6 d (in 20.0 % of cases)" in en.output


def test_analyse_json_carries_every_outcome_figure() -> None:
    result = runner.invoke(app, ["analyse", "refugee_settlement@v2", "--json"])
    data = json.loads(result.output)
    version = LIBRARY.get("refugee_settlement", 2)
    assert data["outcomes"] == [f.as_dict() for f in designed_outcomes(version)]
    assert [f["metric"] for f in data["outcomes"]] == [m.id for m in version.outcome_metrics]


def test_logged_outcomes_get_a_column_per_source_with_its_count() -> None:
    """However the command picks its run set, each source of the log is its own column."""
    version = LIBRARY.get("eviction_prevention", 2)
    path = LIBRARY.scenario_path("eviction_prevention")
    scenario = load_scenario(path, version=version, lanes=LIBRARY.lanes)
    simulated = simulate(version, scenario, cases=120, seed=4, lanes=LIBRARY.lanes).events
    live = simulated.filter(pl.col("case_id").is_in(simulated["case_id"].unique().sort()[:20]))
    log = pl.concat([simulated, live.with_columns(mode=pl.lit("live"))])
    rows = outcome_table(version, logged_outcomes(log, version))
    console = Console(width=200, record=True)
    console.print(analysis_commands._outcome_table(version, rows, "nb"))
    text = console.export_text()
    assert "Forventet" in text and "Registrert (n=20)" in text and "Simulert (n=120)" in text
    assert [[f.source for f in figures] for _, figures in rows] == [
        ["designed", "live", "simulated"]
    ] * 3


def test_a_metric_name_with_markup_prints_literally(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = tmp_path / "processes"
    (root / "eviction_prevention").mkdir(parents=True)
    (root / "lanes.yaml").write_bytes((PROCESSES / "lanes.yaml").read_bytes())
    text = (PROCESSES / "eviction_prevention" / "v2.yaml").read_text(encoding="utf-8")
    text = text.replace('{nb: "Andel utkastet"', '{nb: "Andel [/] [bold]utkastet"', 1)
    (root / "eviction_prevention" / "v2.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(root))
    result = runner.invoke(app, ["analyse", "eviction_prevention@v2"])
    assert result.exit_code == 0, result.output
    assert "Andel [/] [bold]utkastet" in result.output
