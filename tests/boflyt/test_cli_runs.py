"""``boflyt runs list`` and ``boflyt runs delete``, and the run sets ``simulate`` stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.engine.store.db import make_engine, read_scope
from tests.boflyt.conftest import add_staff

runner = CliRunner()


@pytest.fixture(autouse=True)
def workspace(cli_folder: Path) -> Path:
    """The store's folder: the real library, an empty store, a wide terminal."""
    return cli_folder / "data"


def invoke(*args: str, code: int = 0, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def simulate(ref: str, cases: int = 12, seed: int = 3) -> str:
    return invoke("simulate", ref, "--cases", str(cases), "--seed", str(seed), "--no-prefect")


def counts(data: Path) -> dict[str, int]:
    engine = make_engine(f"sqlite:///{data / 'boflyt.db'}")
    with read_scope(engine) as conn:
        found = {
            table: int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("simulation_run", "case_run", "work_item", "event")
        }
    engine.dispose()
    return found


def start_live_case() -> None:
    add_staff("ann")
    invoke("case", "start", "eviction_prevention", "--as", "ann", "--org", "accounting",
           stdin="01017012345\n")  # fmt: skip


def test_simulate_names_the_run_set_it_stored() -> None:
    nb = simulate("eviction_prevention@v1")
    assert "Simulering: eviction_prevention@v1 · simulert: kjøring 1, frø 3, 12 saker" in nb
    assert "kjøringssett" in nb and "simulated:1" in nb
    en = invoke("simulate", "eviction_prevention@v2", "-n", "5", "--no-prefect", "--lang", "en")
    assert "simulated: run 2, seed 0, 5 cases" in en and "simulated:2" in en


def test_the_list_shows_each_set_with_its_kind_seed_and_cases() -> None:
    assert "ingen kjøringssett i lageret" in invoke("runs", "list")
    simulate("eviction_prevention@v1")
    simulate("eviction_prevention@v2", cases=7, seed=9)
    start_live_case()
    listed = json.loads(invoke("runs", "list", "--json"))
    assert [(s["run_set"], s["version"], s["kind"], s["seed"], s["cases"]) for s in listed] == [
        ("simulated:1", 1, "simulated", 3, 12),
        ("live", 2, "live", None, 1),
        ("simulated:2", 2, "simulated", 9, 7),
    ]
    table = invoke("runs", "list", "--lang", "en")
    assert "simulated:2" in table and "eviction_prevention@v2" in table and "registered" in table
    assert "simulated:1" not in invoke("runs", "list", "--process", "private_lease")


def test_delete_asks_then_removes_the_set_and_only_it(workspace: Path) -> None:
    simulate("eviction_prevention@v1")
    simulate("eviction_prevention@v2")
    start_live_case()
    before = counts(workspace)
    declined = invoke("runs", "delete", "simulated:1", code=1, stdin="n\n")
    assert "simulated:1  eviction_prevention@v1  12 saker" in declined
    assert "ingenting slettet" in declined
    assert counts(workspace) == before
    deleted = invoke("runs", "delete", "simulated:1", "--lang", "en", stdin="y\n")
    assert "Deleted 1 run set: 12 cases" in deleted
    after = counts(workspace)
    assert after["simulation_run"] == 1 and after["case_run"] == before["case_run"] - 12
    assert after["event"] < before["event"] and after["work_item"] < before["work_item"]
    names = [s["run_set"] for s in json.loads(invoke("runs", "list", "--json"))]
    assert names == ["live", "simulated:2"]
    simulate("eviction_prevention@v1")  # the number 1 is never given again
    assert "simulated:3" in invoke("runs", "list")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["live"], "live cases are never deleted"),
        (["simulated:9"], "no simulation 'simulated:9' in the store"),
        (["imported:lisa"], "no run set 'imported:lisa' in the store"),
        (["observed"], "'observed' is not a run set; write live, simulated:N"),
        (["simulated:1", "live"], "live cases are never deleted"),
    ],
)
def test_a_bad_delete_is_one_line_and_changes_nothing(
    workspace: Path, args: list[str], message: str
) -> None:
    simulate("eviction_prevention@v1", cases=4)
    start_live_case()
    before = counts(workspace)
    result = runner.invoke(app, ["runs", "delete", "--yes", *args])
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert counts(workspace) == before
