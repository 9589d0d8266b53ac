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
from boflyt.engine.case.decide import CompleteStep, StartCase, compile_flow, decide, ready_items
from boflyt.engine.definition.load import load_library
from boflyt.models.definition import Version

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
LIBRARY = load_library(PROCESSES)
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("cli_folder")


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
        rows += [event._asdict() for event in events]
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
    assert "no runs of private_lease@v2 in live" in result.output


def simulate(ref: str, cases: int = 20, seed: int = 3) -> None:
    args = ["simulate", ref, "--cases", str(cases), "--seed", str(seed), "--no-prefect"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output


def test_a_simulation_is_analysed_as_simulated_and_never_pooled_with_live_runs() -> None:
    simulate("private_lease@v2")
    shown = runner.invoke(app, ["analyse", "private_lease@v2", "--runs", "simulated:1", "--json"])
    data = json.loads(shown.output)
    assert (data["runs"]["run_set"], data["runs"]["cases"], data["runs"]["seed"]) == (
        "simulated:1", 20, 3)  # fmt: skip
    assert data["observed"]["conformance"]["share"] == 1.0
    table = runner.invoke(app, ["analyse", "private_lease@v2", "--runs", "simulated:1"]).output
    assert "Simulerte verdier per avsluttet sak · simulert: kjøring 1, frø 3, 20 saker" in table
    assert "observert" not in table.lower() and "målt" not in table.lower()
    live = runner.invoke(app, ["analyse", "private_lease@v2", "--observed", "--json"])
    assert json.loads(live.output)["observed"] is None  # live is the default; no live runs
    wrong = runner.invoke(app, ["analyse", "private_lease@v1", "--runs", "simulated:1"])
    assert wrong.exit_code == 1
    assert (
        "simulated:1 is a simulation of private_lease@v2, not of private_lease@v1" in wrong.output
    )


def test_compare_takes_one_run_set_per_version_and_names_both() -> None:
    simulate("private_lease@v1")
    simulate("private_lease@v2")
    args = ["compare", "private_lease", "1", "2", "--runs", "simulated:1", "--runs", "simulated:2"]
    data = json.loads(runner.invoke(app, [*args, "--json"]).output)
    rows = {row["key"]: row for row in data["rows"]}
    handoffs = rows["observed_handoffs"]
    assert handoffs["source"] == "observed" and handoffs["after"] < handoffs["before"]
    assert handoffs["ci_low"] <= handoffs["change"] <= handoffs["ci_high"]
    assert (data["runs"]["before"]["run_set"], data["runs"]["after"]["run_set"]) == (
        "simulated:1", "simulated:2")  # fmt: skip
    assert any(s.startswith("Gjennomløpstid (simulert): ") for s in data["summary"])
    assert not any("bservert" in s for s in data["summary"])
    table = runner.invoke(app, args).output
    assert "Før (private_lease@v1): simulert: kjøring 1, frø 3, 20 saker" in table
    assert "Overleveringer (simulert)" in table
    one = runner.invoke(app, ["compare", "private_lease", "1", "2", "--runs", "simulated:1"])
    assert one.exit_code == 1 and "give --runs twice (before, then after)" in one.output


def test_registered_cases_are_the_default_and_called_registered(staff: object) -> None:
    simulate("eviction_prevention@v2", cases=5)
    started = runner.invoke(app, ["case", "start", "eviction_prevention", "--as", "ann",
                                  "--org", "accounting"], input="01017012345\n")  # fmt: skip
    assert started.exit_code == 0, started.output
    table = runner.invoke(app, ["analyse", "eviction_prevention@v2", "--observed"]).output
    assert "Målte verdier per avsluttet sak · registrert (n=1)" in table
    assert "simulert" not in table
