"""``boflyt export``: a simulated and a live run set in every format, pseudonyms only, written
whole or not at all; its errors; the same on PostgreSQL."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.commands.exports import resource_pseudonym
from boflyt.engine.store.pseudonym import ReferenceKey
from tests.boflyt.conftest import add_staff
from tests.fixtures.store import fresh_pg_database
from tests.formats.test_ocel import assert_valid_ocel

runner = CliRunner()

REFERENCE = "01017012345"
STAFF = ("kari.nordmann", "ole.hansen")
NOTES = ("Ring Kari Nordmann 99887766", "Flyttet til Bergen, tlf 41234567")
FILES = ("log.xes", "log.xes.gz", "log.json", "log.csv", "log.parquet")


@pytest.fixture(autouse=True)
def workspace(cli_folder: Path) -> Path:
    return cli_folder


def invoke(*args: str, code: int = 0, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def exported(output: str) -> int:
    """The number of events the command says it wrote."""
    found = re.search(r"Exported ([\d,]+) events", " ".join(output.split()))
    assert found is not None, output
    return int(found.group(1).replace(",", ""))


def text_of(path: Path) -> str:
    """Everything a reader of the file sees, as text (decompressed, Parquet cells as CSV)."""
    if path.suffix == ".parquet":
        return pl.read_parquet(path).write_csv()
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return raw.decode("utf-8")


def events_in(path: Path) -> int:
    """How many events the file holds, counted as its format counts them."""
    if path.suffix == ".parquet":
        return pl.read_parquet(path).height
    text = text_of(path)
    if path.suffix == ".csv":
        return pl.read_csv(path).height
    if path.suffix == ".json":
        return len(json.loads(text)["events"])
    return len(re.findall(r"<event>", text))


def live_cases() -> str:
    """Two live private_lease cases by named staff with notes: one run through a rework loop,
    one cancelled with a reason. Returns the first case's id."""
    add_staff(*STAFF)
    kari, ole = STAFF
    started = invoke("case", "start", "private_lease", "--as", kari, "--org", "tenant", "--at",
                     "2025-03-03T09:00", "--lang", "en", stdin=f"{REFERENCE}\n")  # fmt: skip
    case = re.search(r"Started case (\S+)", started)
    assert case is not None, started
    case_id = case.group(1)
    steps = [
        ("apply_digital", kari, "tenant", None, NOTES[0], "2025-03-03T10:30"),
        ("joint_assessment", ole, "housing_office", "in_target_group", None, "2025-03-05T10:00"),
        ("search_dwelling", ole, "housing_office", None, None, "2025-03-12T10:00"),
        ("view_dwelling", ole, "housing_office", "not_approved", NOTES[0], "2025-03-14T10:00"),
        ("search_dwelling", ole, "housing_office", None, None, "2025-03-20T10:00"),
    ]
    for step, actor, org, outcome, note, at in steps:
        args = ["case", "complete", case_id, step, "--as", actor, "--org", org, "--at", at]
        args += ["--outcome", outcome] if outcome else []
        args += ["--note", note] if note else []
        invoke(*args)
    other = invoke("case", "start", "private_lease", "--as", kari, "--org", "tenant",
                   "--at", "2025-03-04T09:00", "--lang", "en", stdin="02027012345\n")  # fmt: skip
    second = re.search(r"Started case (\S+)", other)
    assert second is not None
    invoke("case", "cancel", second.group(1), "--as", ole, "--org", "housing_office",
           "--reason", NOTES[1], "--at", "2025-03-06T09:00")  # fmt: skip
    return case_id


def assert_pseudonymous(path: Path, key: ReferenceKey) -> None:
    text = text_of(path)
    for secret in (*STAFF, *NOTES, REFERENCE, key.pseudonym(REFERENCE)[:10], "Nordmann"):
        assert secret not in text, f"{path.name} holds {secret!r}"


@pytest.mark.parametrize("name", FILES)
def test_a_simulated_set_in_each_format(workspace: Path, name: str) -> None:
    invoke("simulate", "private_lease@v2", "--cases", "15", "--seed", "5", "--no-prefect")
    path = workspace / name
    said = invoke("export", "simulated:1", "-o", str(path), "--lang", "en")
    assert "simulated:1 (private_lease@v2)" in " ".join(said.split())
    assert path.is_file() and exported(said) == events_in(path) > 15
    assert sorted(p.name for p in workspace.iterdir() if p.is_file()) == [name]  # no temp left
    text = text_of(path)
    assert "simulator" not in text and "res-" in text  # actors pseudonymised
    if name.endswith(".json"):
        assert_valid_ocel(json.loads(text))


@pytest.mark.parametrize("name", FILES)
def test_a_live_set_carries_pseudonyms_only(workspace: Path, name: str) -> None:
    case_id = live_cases()
    key = ReferenceKey.load(workspace / "data" / "reference.key")
    path = workspace / name
    said = invoke("export", "live", "--output", str(path), "--lang", "en")
    assert exported(said) == events_in(path)
    assert_pseudonymous(path, key)
    text = text_of(path)
    assert case_id in text  # Boflyt's own random case id
    assert resource_pseudonym(key, STAFF[1]) in text and "housing_office" in text
    if name.endswith(".json"):
        log = json.loads(text)
        assert_valid_ocel(log)
        views = [e for e in log["events"] if e["type"] == "view_dwelling"]
        assert [a["value"] for a in views[0]["attributes"] if a["name"] == "outcome"] == [
            "not_approved"
        ]
        assert {r["objectId"] for r in views[0]["relationships"]} >= {
            f"dwelling:{case_id}", f"case:{case_id}", "organisation:housing_office",
        }  # fmt: skip


def test_the_format_can_be_named_and_one_process_chosen(workspace: Path) -> None:
    invoke("simulate", "private_lease@v1", "--cases", "4", "--no-prefect")
    invoke("simulate", "eviction_prevention@v1", "--cases", "4", "--no-prefect")
    live_cases()
    path = workspace / "lease.out"
    said = invoke("export", "live", "-o", str(path), "--format", "ocel", "-p", "private_lease@v2")
    assert "private_lease@v2" in said
    log = json.loads(path.read_text())
    assert {e["type"] for e in log["events"]} >= {"apply_digital", "case started"}
    nothing = invoke("export", "live", "-o", str(path), "-f", "ocel", "-p", "eviction_prevention",
                     code=1)  # fmt: skip
    assert "holds no events of eviction_prevention" in nothing


@pytest.fixture
def simulated_set(workspace: Path) -> Iterator[Path]:
    invoke("simulate", "private_lease@v1", "--cases", "4", "--no-prefect")
    yield workspace


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["imported:nope", "-o", "x.json"], "no run set 'imported:nope' in the store"),
        (["simulated:9", "-o", "x.json"], "no simulation 'simulated:9' in the store"),
        (["live", "-o", "x.json"], "the run set 'live' holds no events"),
        (["observed", "-o", "x.json"], "'observed' is not a run set"),
        (["simulated:1", "-o", "missing/x.json"], "the folder missing does not exist"),
        (["simulated:1", "-o", "."], "it is a folder"),
        (["simulated:1", "-o", "x.txt"], "x.txt does not say which format"),
    ],
)
def test_a_refused_export_is_one_line_and_writes_nothing(
    simulated_set: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(simulated_set)
    before = sorted(p.name for p in simulated_set.iterdir())
    result = runner.invoke(app, ["export", *args])
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in simulated_set.iterdir()) == before


def test_a_failed_write_leaves_the_old_file_and_no_part(
    simulated_set: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = simulated_set / "log.json"
    path.write_text("the earlier export")

    def broken(events: pl.DataFrame, target: Path, **_: object) -> int:
        target.write_text('{"objectTypes": [')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("boflyt.formats.ocel.write_ocel", broken)
    said = invoke("export", "simulated:1", "-o", str(path), code=1)
    assert f"cannot write {path}: No space left on device" in " ".join(said.split())
    assert path.read_text() == "the earlier export"
    assert sorted(p.name for p in simulated_set.iterdir() if p.is_file()) == ["log.json"]


@pytest.mark.postgres
def test_postgresql_store(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with fresh_pg_database() as url:
        monkeypatch.setenv("BOFLYT_DATABASE_URL", url)
        invoke("simulate", "private_lease@v2", "--cases", "6", "--no-prefect")
        live_cases()
        key = ReferenceKey.load(workspace / "data" / "reference.key")
        for runs, name in (("simulated:1", "sim.json"), ("live", "live.csv"),
                           ("live", "live.xes.gz")):  # fmt: skip
            path = workspace / name
            said = invoke("export", runs, "-o", str(path), "--lang", "en")
            assert exported(said) == events_in(path) > 0
            assert_pseudonymous(path, key)
        assert_valid_ocel(json.loads((workspace / "sim.json").read_text()))


def observed(runs: str) -> dict[str, object]:
    """The run-based figures ``analyse --json`` gives for private_lease v2 on ``runs``."""
    data = json.loads(invoke("analyse", "private_lease@v2", "--runs", runs, "--json"))
    figures = data["observed"]
    return {
        "handoffs": {(h["from_lane"], h["to_lane"]): (h["handoffs"], h["median_days"])
                     for h in figures["handoff_waits"]},
        "summary": {s["metric"]: (s["cases"], s["mean"], s["median"], s["p90"])
                    for s in figures["summary"] if s["metric"] != "transactions"},
        "variants": {v["variant"]: v["cases"] for v in figures["variants"]},
        "cases": figures["cases"],
    }  # fmt: skip


@pytest.mark.parametrize("name", ["log.xes.gz", "log.csv", "log.parquet"])
def test_export_then_import_gives_the_same_metrics(workspace: Path, name: str) -> None:
    """Handoffs per organisation pair (count and median wait), lead time, touch, waiting,
    rework and variants are the same after the round trip (times to the millisecond the
    formats keep); the step transactions are not in an event log, so they are left out."""
    invoke("simulate", "private_lease@v2", "--cases", "40", "--seed", "8", "--no-prefect")
    path = workspace / name
    invoke("export", "simulated:1", "-o", str(path))
    invoke("import", str(path), "--name", "again", "--process", "private_lease@v2",
           "--no-prefect")  # fmt: skip
    before, after = observed("simulated:1"), observed("imported:again")
    assert after["cases"] == before["cases"] == 40
    assert after["variants"] == before["variants"]
    assert len(before["variants"]) > 1  # type: ignore[arg-type]
    for part in ("handoffs", "summary"):
        first, second = before[part], after[part]
        assert isinstance(first, dict) and isinstance(second, dict)
        assert first.keys() == second.keys()
        for key, values in first.items():
            assert second[key] == pytest.approx(values, rel=1e-6, abs=1e-6), (part, key)
    rework = before["summary"]["rework"]  # type: ignore[index]
    assert rework[1] > 0  # the round trip carries some rework


def test_an_import_of_its_own_version_exports(workspace: Path) -> None:
    """An import without --process stands on version 0 ("the log as logged"), which the
    library does not have: its OCEL file has cases and organisations only."""
    invoke("simulate", "private_lease@v2", "--cases", "5", "--no-prefect")
    invoke("export", "simulated:1", "-o", str(workspace / "sim.xes"))
    invoke("import", str(workspace / "sim.xes"), "--name", "plain", "--no-prefect")
    path = workspace / "plain.json"
    said = invoke("export", "imported:plain", "-o", str(path), "--lang", "en")
    assert "imported:plain (plain@v0)" in " ".join(said.split())
    log = json.loads(path.read_text())
    assert_valid_ocel(log)
    assert [t["name"] for t in log["objectTypes"]] == ["case", "organisation"]
    assert exported(said) == len(log["events"]) > 5
