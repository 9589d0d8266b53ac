"""``boflyt analyse`` and ``boflyt compare`` through CliRunner, on the real process library."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from boflyt.analysis.design import design_metrics
from boflyt.cli import app
from boflyt.commands import analysis as analysis_commands
from boflyt.engine.case import CompleteStep, StartCase, compile_flow, decide, ready_items
from boflyt.engine.load import load_library
from boflyt.models.definition import Version

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
LIBRARY = load_library(PROCESSES)
runner = CliRunner()


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A wide terminal, the real library, an empty store in a temporary folder."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(PROCESSES))
    monkeypatch.setenv("BOFLYT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BOFLYT_DATABASE_URL", raising=False)
    monkeypatch.delenv("BOFLYT_LANG", raising=False)


def run_cases(version: Version, count: int) -> pl.DataFrame:
    """``count`` cases driven through the engine, always taking a decision's first outcome,
    one working hour per step."""
    outside = frozenset(lane.id for lane in LIBRARY.lanes.lanes if lane.outside)
    flow = compile_flow(version, outside)
    rows = []
    for n in range(count):
        now = dt.datetime(2025, 1, 6, 8) + dt.timedelta(days=7 * n)
        state = None
        decision = decide(flow, state, StartCase(f"case{n}", "ann", version.lanes[0]), now=now)
        state, events = decision.state, list(decision.events)
        while ready_items(state):
            item = ready_items(state)[0]
            step = flow.steps[item.step]
            now += dt.timedelta(hours=1)
            outcome = step.outcomes[0] if step.outcomes else None
            org = sorted(step.allowed)[0]
            command = CompleteStep(item.step, "ann", org, outcome=outcome, touch_minutes=30)
            decision = decide(flow, state, command, now=now)
            state, events = decision.state, events + list(decision.events)
        rows += [event.as_row() for event in events]
    return pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("kind").cast(pl.String),
        process=pl.lit(version.process),
        version=pl.lit(version.version),
        mode=pl.lit("simulated"),
    )


def test_analyse_json_gives_the_design_figures() -> None:
    result = runner.invoke(app, ["analyse", "private_lease@v1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = design_metrics(LIBRARY.get("private_lease", 1), lanes=LIBRARY.lanes)
    assert data["design"]["values"]["expected_handoffs"] == pytest.approx(
        expected["expected_handoffs"]
    )
    assert data["observed"] is None


def test_analyse_prints_bokmal_labels_by_default_and_english_on_request() -> None:
    nb = runner.invoke(app, ["analyse", "refugee_settlement"])
    assert nb.exit_code == 0, nb.output
    assert "Overleveringer (forventet)" in nb.output and "Styrbar gjennomløpstid" in nb.output
    en = runner.invoke(app, ["analyse", "refugee_settlement@v1", "--lang", "en"])
    assert "Handoffs (expected)" in en.output and "Duplicate registrations" in en.output


def test_compare_prints_the_table_and_the_story() -> None:
    result = runner.invoke(app, ["compare", "private_lease", "1", "v2", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "private_lease: v1 → v2" in result.output
    assert "v2 removes" in result.output and "expected handoffs per case" in result.output


def test_compare_json_has_rows_and_sentences() -> None:
    result = runner.invoke(app, ["compare", "eviction_prevention", "1", "2", "--json"])
    data = json.loads(result.output)
    keys = [row["key"] for row in data["rows"]]
    assert "expected_transactions" in keys and "controllable_lead_days" in keys
    assert data["summary"][0].startswith("v2 fjerner")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyse", "nope"], "unknown process 'nope'"),
        (["analyse", "private_lease@v9"], "has no version 9"),
        (["compare", "private_lease", "1", "x"], "'x' is not a version number"),
    ],
)
def test_bad_input_is_one_clear_error_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_observed_without_runs_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyse", "private_lease@v2", "--observed", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "no recorded runs of private_lease@v2" in result.output


def test_observed_runs_are_analysed_and_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    logs = {v: run_cases(LIBRARY.get("private_lease", v), 4 if v == 1 else 3) for v in (1, 2)}
    monkeypatch.setattr(analysis_commands, "_events", lambda version: logs[version.version])
    shown = runner.invoke(app, ["analyse", "private_lease@v2", "--observed", "--json"])
    data = json.loads(shown.output)
    assert data["observed"]["conformance"]["share"] == 1.0
    assert data["observed"]["conformance"]["runs"] == 3
    table = runner.invoke(app, ["analyse", "private_lease@v2", "--observed", "--lang", "en"])
    assert "Conformance: 3 of 3 runs (100.0 %) follow the graph." in table.output
    compared = runner.invoke(app, ["compare", "private_lease", "1", "2", "--observed", "--json"])
    rows = {row["key"]: row for row in json.loads(compared.output)["rows"]}
    handoffs = rows["observed_handoffs"]
    assert handoffs["source"] == "observed" and handoffs["after"] < handoffs["before"]
    assert handoffs["ci_low"] <= handoffs["change"] <= handoffs["ci_high"]
