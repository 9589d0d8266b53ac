"""``boflyt analyse --runs imported:NAME``: the observed %C&A and activity ratio of an import."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from boflyt.cli import app

TRACES = {
    "a": ["check", "decide"],
    "b": ["check", "fix", "check", "decide"],
    "c": ["check", "decide", "decide"],
    "d": ["check", "decide"],
}


def test_analyse_json_of_an_import_lists_the_observed_ca(cli_folder: Path) -> None:
    lines = ["case,activity,timestamp,organisation"]
    for case, steps in TRACES.items():
        for hour, step in enumerate(steps, start=9):
            lines.append(f"{case},{step},2025-01-07T{hour:02d}:00:00+01:00,desk")
    log = cli_folder / "log.csv"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner = CliRunner()
    done = runner.invoke(app, ["import", str(log), "--name", "small", "--no-prefect"])
    assert done.exit_code == 0, done.output
    result = runner.invoke(app, ["analyse", "--runs", "imported:small", "--json"])
    assert result.exit_code == 0, result.output
    accuracy = json.loads(result.output)["accuracy"]
    went_back = {row["step"]: row["went_back"] for row in accuracy["steps"]}
    assert went_back == {"check": 0, "decide": 1, "fix": 1}
    [version] = accuracy["versions"]
    assert (version["first_pass"], version["cases"]) == (2, 4)
    assert version["activity_ratio_median"] is None  # completions only: touch time unknown
    table = runner.invoke(app, ["analyse", "--runs", "imported:small", "--lang", "en"]).output
    assert "Rolled %C&A (cases with no go-back): 50.0 % (2 of 4)" in table
