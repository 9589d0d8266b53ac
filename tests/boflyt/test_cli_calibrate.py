"""``boflyt calibrate`` through CliRunner: a small imported log in, a scenario out that loads
and simulates."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from boflyt.analysis.simulation import simulate
from boflyt.cli import app
from boflyt.engine.definition.load import load_library
from boflyt.engine.definition.scenario import load_scenario
from boflyt.engine.store.imports import store_import
from boflyt.formats.log_frame import RAW_SCHEMA
from boflyt.formats.log_import import convert_log
from boflyt.models.scenario import Scenario
from boflyt.models.tables import ImportedLog
from boflyt.workspace import Workspace
from tests.boflyt.conftest import PROCESSES

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("cli_folder")
REF = "private_lease@v1"


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def raw_log(cases: int = 40) -> pl.DataFrame:
    """A log as a reader gives it: a simulation of private_lease v1 (4 arrivals a week, one
    person per organisation), its starts and completions with people and organisations."""
    version = load_library(PROCESSES).get("private_lease", 1)
    world = Scenario(name="truth", arrivals_per_week=4, start="2025-01-06",
                     capacity={"nav": 1, "housing_office": 1, "accounting": 1})  # fmt: skip
    events = simulate(version, world, cases=cases, seed=5).events
    kinds = {"step_started": "start", "step_completed": "complete"}
    steps = events.filter(pl.col("kind").is_in(list(kinds)))
    return pl.DataFrame(
        {
            "case": steps["case_id"],
            "activity": steps["step"],
            "at": steps["at"],
            "lifecycle": steps["kind"].replace_strict(kinds),
            "resource": steps["actor"],
            "org": steps["lane"],
            "row": pl.int_range(1, steps.height + 1, eager=True),
        },
        schema=RAW_SCHEMA,
    )


def import_log(name: str = "small") -> None:
    """Store :func:`raw_log` as imported:NAME of private_lease v1, as ``boflyt import`` does."""
    workspace = Workspace.current()
    engine = workspace.open_store()
    version = load_library(workspace.processes_dir).get("private_lease", 1)
    converted = convert_log(raw_log(), name=name, key=workspace.reference_key(engine),
                            version=version, source="small.xes")  # fmt: skip
    found = converted.summary
    row = ImportedLog(
        name=name, process=found.process, version=found.version, source="small.xes",
        sha256="0" * 64, events=found.events, cases=found.cases, start_share=1.0,
        activities=json.dumps(found.activities), organisation="org:group",
        imported_at=dt.datetime(2025, 6, 1),
    )  # fmt: skip
    store_import(engine, log=row, events=converted.events)
    engine.dispose()


def test_calibrate_writes_a_scenario_that_loads_and_simulates(tmp_path: Path) -> None:
    import_log()
    out = tmp_path / "fitted.yaml"
    text = invoke("calibrate", "imported:small", "--process", REF, "--train", "0.6",
                  "-o", str(out), "--lang", "en")  # fmt: skip
    assert "Calibration: imported:small → private_lease@v1" in text
    assert "training cases" in text and "24" in text  # 60 % of 40
    assert f"Wrote {out}." in text
    library = load_library(PROCESSES)
    version = library.get("private_lease", 1)
    scenario = load_scenario(out, version=version, lanes=library.lanes)
    assert scenario.name == "calibrated" and scenario.holidays == "none"
    assert scenario.arrivals_per_week == pytest.approx(4, rel=0.5)
    assert set(scenario.capacity) <= {"nav", "housing_office", "accounting"}  # no outside party
    assert scenario.overrides["search_dwelling"].touch_minutes is not None
    assert out.read_text(encoding="utf-8").startswith("# Scenario calibrated from imported:small")
    result = simulate(version, scenario, cases=10, seed=1)
    assert result.summary()["cases"] == 10


def test_by_default_it_lands_in_the_library_and_boflyt_simulate_runs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = tmp_path / "processes"
    shutil.copytree(PROCESSES, library)
    monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(library))
    import_log()
    text = invoke("calibrate", "imported:small", "--process", REF, "--until", "2025-03-01",
                  "--name", "fitted")  # fmt: skip
    assert (library / "private_lease" / "scenarios" / "fitted.yaml").is_file()
    assert "boflyt simulate private_lease@v1 --scenario fitted" in text
    again = invoke("calibrate", "imported:small", "--process", REF, "--name", "fitted", code=1)
    assert "fitted.yaml finnes; --force overskriver den" in again
    invoke("calibrate", "imported:small", "--process", REF, "--name", "fitted", "--force")
    ran = invoke("simulate", REF, "--scenario", "fitted", "--cases", "8", "--no-prefect")
    assert "8" in ran


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["imported:nope", "--process", REF], "imported:nope"),
        (["imported:small", "--process", REF, "--train", "1.5"], "between 0 and 1"),
        (["imported:small", "--process", REF, "--until", "2020-01-01"], "cases on both sides"),
        (["imported:small", "--process", "private_lease@v9"], "private_lease"),
        (["imported:small", "--process", REF, "--name", "Bad-Name"], "not a scenario name"),
        (
            ["imported:small", "--process", REF, "--train", "0.5", "--until", "2025-02-01"],
            "either a training share or a date",
        ),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    import_log()
    out = tmp_path / "fitted.yaml"
    text = invoke("calibrate", *args, "-o", str(out), code=2 if "--name" in args else 1)
    assert message in text
    assert not out.exists()


def test_a_recent_window_fits_fewer_cases(tmp_path: Path) -> None:
    import_log()
    out = tmp_path / "recent.yaml"
    invoke("calibrate", "imported:small", "--process", REF, "--train", "0.6",
           "--since", "2025-02-01", "-o", str(out), "--lang", "en")  # fmt: skip
    text = out.read_text(encoding="utf-8")
    whole = int(text.split("trained it")[0].rsplit("(", 1)[1].split(")")[0])
    assert 0 < whole < 24  # fewer than the 24 cases before the cut
