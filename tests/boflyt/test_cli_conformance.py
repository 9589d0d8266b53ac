"""``boflyt conformance`` through CliRunner: simulated, live and imported run sets."""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from boflyt.analysis.step_pairs import allowed_pairs, end_skips, skipped_steps
from boflyt.cli import app
from boflyt.engine.definition.load import load_library
from boflyt.workspace import Workspace
from tests.boflyt.conftest import PROCESSES, add_staff

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("cli_folder")


def invoke(*args: str, code: int = 0, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def checked(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(invoke("conformance", *args, "--json"))
    return data


def simulate(ref: str, cases: int = 12) -> None:
    invoke("simulate", ref, "--cases", str(cases), "--seed", "3", "--no-prefect")


def test_a_simulation_conforms_to_its_own_version() -> None:
    simulate("private_lease@v1")
    data = checked("simulated:1", "private_lease@v1")
    assert (data["runs"], data["conforming"], data["share"], data["mean_fitness"]) == (
        12, 12, 1.0, 1.0)  # fmt: skip
    assert data["other_version"] is False and data["by_step"] == [] and data["deviations"] == []
    text = invoke("conformance", "simulated:1", "private_lease@v1")
    assert "Samsvar: simulert: kjøring 1, frø 3, 12 saker mot private_lease@v1" in text
    assert "12 forløp · 12 i samsvar (100,0 %)" in text and "Ingen avvik" in text


def test_a_simulation_against_the_redesign_says_so_and_shows_where_it_deviates() -> None:
    simulate("private_lease@v1")
    data = checked("simulated:1", "private_lease@v2", "--cases")
    assert data["other_version"] is True and data["checked_against"] == "private_lease@v2"
    assert data["own_versions"] == [{"process": "private_lease", "version": 1, "runs": 12}]
    assert data["runs"] == 12 and data["conforming"] == 0 and data["mean_fitness"] < 1
    steps = {row["step"]: row for row in data["by_step"]}
    # v1's paper application is no step of v2: every run deviates there first
    assert steps["apply_on_paper"]["first"] == 12 and steps["apply_on_paper"]["log_moves"] == 12
    assert steps["apply_digital"]["model_moves"] == 12  # v2's new first step, skipped by all
    assert len(data["cases"]) == 12 and {c["version"] for c in data["cases"]} == {1}
    text = invoke("conformance", "simulated:1", "private_lease@v2", "--cases", "--lang", "en")
    assert "12 of the runs ran on private_lease@v1, not on private_lease@v2" in text
    assert "Deviations by step" in text and "First deviation per case" in text
    assert "apply_on_paper" in text and "done where not allowed" in text


def test_registered_cases_are_the_live_run_set_of_the_process() -> None:
    add_staff("ann")
    invoke("case", "start", "eviction_prevention", "--as", "ann", "--org", "accounting",
           stdin="01017012345\n")  # fmt: skip
    data = checked("live", "eviction_prevention@v2")
    assert (data["runs"], data["conforming"], data["run_set"]) == (1, 1, "live")
    assert "01017012345" not in json.dumps(data)
    assert checked("live", "private_lease@v2")["runs"] == 0


SMALL_LOG = """case,activity,timestamp,organisation
A1,apply_digital,2025-01-06T08:00:00,housing_office
A1,joint_assessment,2025-01-07T09:00:00,nav
A2,apply_digital,2025-01-06T08:00:00,housing_office
A2,search_dwelling,2025-01-08T09:00:00,housing_office
A2,view_dwelling,2025-01-09T09:00:00,housing_office
A2,sign_head_lease,2025-01-10T09:00:00,housing_office
A2,generate_finance_records,2025-01-13T09:00:00,accounting
A2,nav_deposit_guarantee,2025-01-14T09:00:00,nav
A2,sign_sublease,2025-01-15T09:00:00,housing_office
A2,move_in,2025-01-16T09:00:00,housing_office
A2,rent_cycle,2025-01-17T09:00:00,accounting
A3,apply_digital,2025-01-06T08:00:00,housing_office
A3,Fax the form,2025-01-06T09:00:00,housing_office
A3,joint_assessment,2025-01-07T09:00:00,nav
A4,joint_assessment,2025-01-06T08:00:00,nav
A4,apply_digital,2025-01-07T09:00:00,housing_office
A5,apply_digital,2025-01-06T08:00:00,housing_office
A5,joint_assessment,2025-01-07T09:00:00,nav
A5,search_dwelling,2025-01-08T09:00:00,housing_office
"""
"""A1 follows private_lease@v2 to its guidance end; A2 skips the joint assessment; A3 does an
activity v2 does not have; A4 does the first two steps the wrong way round; A5 stops after the
search, seven steps before the end."""


def as_xes(table: str) -> str:
    """The CSV log ``table`` as an XES log: one trace per case, org:group the organisation."""
    rows = [line.split(",") for line in table.strip().splitlines()[1:]]
    traces = []
    for case in dict.fromkeys(row[0] for row in rows):
        events = "".join(
            f'<event><string key="concept:name" value="{activity}"/>'
            f'<date key="time:timestamp" value="{at}.000+01:00"/>'
            f'<string key="org:group" value="{org}"/></event>\n'
            for c, activity, at, org in rows
            if c == case
        )
        traces.append(f'<trace><string key="concept:name" value="{case}"/>\n{events}</trace>')
    body = "\n".join(traces)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n{body}\n</log>\n'


def import_log(folder: Path, suffix: str) -> None:
    """SMALL_LOG written as a .csv or .xes file and imported as imported:small of
    private_lease@v2 with ``boflyt import``."""
    log = folder / f"small.{suffix}"
    log.write_text(SMALL_LOG if suffix == "csv" else as_xes(SMALL_LOG), encoding="utf-8")
    invoke("import", str(log), "--name", "small", "--process", "private_lease@v2", "--no-prefect")


@pytest.mark.parametrize("suffix", ["csv", "xes"])
def test_an_imported_log_gets_the_hand_computed_fitness_and_deviations(
    tmp_path: Path, suffix: str
) -> None:
    import_log(tmp_path, suffix)
    data = checked("imported:small", "private_lease@v2", "--cases")
    assert (data["runs"], data["conforming"], data["other_version"]) == (5, 1, False)
    # A1 1; A2 one skip in 9 steps: 1 − 1/10; A3 one log move in 3: 1 − 1/3; A4 skips
    # apply_digital, then does it as a log move: 1 − 2/3; A5 skipped 7 steps to the end: 1 − 7/10
    assert data["mean_fitness"] == pytest.approx((1 + 0.9 + 2 / 3 + 1 / 3 + 0.3) / 5)
    fitness = sorted(round(c["fitness"], 4) for c in data["cases"])
    assert fitness == [0.3, round(1 / 3, 4), round(2 / 3, 4), 0.9, 1.0]
    firsts = sorted((d["position"], d["from_step"], d["to_step"]) for d in data["deviations"])
    assert firsts == [
        (1, "", "joint_assessment"),  # A4
        (2, "apply_digital", "fax_the_form"),  # A3: the unmatched activity, as its slug
        (2, "apply_digital", "search_dwelling"),  # A2
        (4, "search_dwelling", "end_tenancy_running"),  # A5: one past its last step
    ]
    rows = [(r["step"], r["first"], r["log_moves"], r["model_moves"], r["predecessor"])
            for r in data["by_step"]]  # fmt: skip
    to_end = ["view_dwelling", "sign_head_lease", "generate_finance_records",
              "nav_deposit_guarantee", "sign_sublease", "move_in", "rent_cycle"]  # fmt: skip
    assert rows == [
        ("apply_digital", 0, 1, 1, "joint_assessment"),  # A4
        ("joint_assessment", 1, 0, 1, ""),  # A4 begins with it; A2 skipped it
        ("search_dwelling", 1, 0, 0, "apply_digital"),  # A2
        *((step, 0, 0, 1, None) for step in to_end),  # A5 on its way to the end
        ("end_tenancy_running", 1, 0, 0, "search_dwelling"),  # A5
        ("fax_the_form", 1, 1, 0, "apply_digital"),  # A3
    ]
    ids = [c["case_id"] for c in data["cases"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)  # pseudonyms, never A1..A4
    text = invoke("conformance", "imported:small", "private_lease@v2", "--cases", "--lang", "en")
    assert "5 runs · 1 conforming (20.0 %) · mean fitness 0.640" in text
    assert "(start of the run) (1)" in text and "ran on" not in text
    assert not re.search(r"\bA[1-5]\b", text)


def test_an_imported_log_without_its_ends_is_not_held_to_them(tmp_path: Path) -> None:
    import_log(tmp_path, "csv")
    data = checked("imported:small", "private_lease@v2", "--no-ends")
    assert data["mean_fitness"] == pytest.approx((1 + 0.9 + 2 / 3 + 1 / 3 + 1) / 5)  # A5: 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["imported:nope", "private_lease@v2"], "no imported run set 'imported:nope'"),
        (["simulated:9", "private_lease@v2"], "simulated:9"),
        (["everything", "private_lease@v2"], "'everything' is not a run set"),
        (["live", "private_lease@v9"], "private_lease"),
    ],
)
def test_a_bad_run_set_or_version_is_one_clear_error(args: list[str], message: str) -> None:
    output = invoke("conformance", *args, code=1)
    assert message in output and len(output.strip().splitlines()) == 1


# -- the receipt log --------------------------------------------------------------------------

RECEIPT = Path(__file__).resolve().parents[3] / "shared" / "data" / "event-logs" / "receipt.xes.gz"
XES = "{http://www.xes-standard.org/}"
MAIN_PATH = {
    "confirm": "Confirmation of receipt",
    "t02": "T02 Check confirmation of receipt",
    "t04": "T04 Determine confirmation of receipt",
    "t05": "T05 Print and send confirmation of receipt",
    "t06": "T06 Determine necessity of stop advice",
    "t10": "T10 Determine necessity to stop indication",
}
"""The receipt phase's main path as a version: step id → the log's activity (its name)."""


def receipt_version(library: Path) -> None:
    """Write receipt@v1 (start → the main path → end, one lane) into ``library``."""
    steps = [
        "  - {id: start, kind: start, lane: records_office, name: {nb: Start, en: Start}}",
        *(f"  - {{id: {i}, kind: task, lane: records_office, name: {{nb: {n}, en: {n}}}}}"
          for i, n in MAIN_PATH.items()),
        "  - {id: end, kind: end, lane: records_office, name: {nb: Slutt, en: End}}",
    ]  # fmt: skip
    ids = ["start", *MAIN_PATH, "end"]
    flows = [f"  - {{from: {a}, to: {b}}}" for a, b in itertools.pairwise(ids)]
    (library / "receipt").mkdir()
    (library / "receipt" / "v1.yaml").write_text(
        "process: receipt\nversion: 1\nlabel: Main path\nbased_on: null\nstatus: draft\n"
        'owner: tests\ndate: "2025-01-01"\nsummary: The main path, for a test.\n'
        "name: {nb: Mottak, en: Receipt}\nlanes: [records_office]\n\nsteps:\n"
        + "\n".join(steps) + "\n\ntransitions:\n" + "\n".join(flows) + "\n",
        encoding="utf-8",
    )  # fmt: skip


def replayed_receipt() -> list[tuple[int, int, int, int | None]]:
    """Each case's (steps, log moves, model moves, first deviation's position), computed here
    from the raw XES (xml.etree) by a plain Python replay over the version's step pairs."""
    version = load_library(Workspace.current().processes_dir).get("receipt", 1)
    allowed, skips, ends = allowed_pairs(version), skipped_steps(version), end_skips(version)
    step_of = {name: step for step, name in MAIN_PATH.items()}
    with gzip.open(RECEIPT) as handle:
        root = ET.parse(handle).getroot()
    found = []
    for trace in root.iter(f"{XES}trace"):
        events = []
        for event in trace.iter(f"{XES}event"):
            attrs = {a.get("key"): a.get("value") for a in event}
            if attrs.get("lifecycle:transition", "complete").lower() == "complete":
                at = dt.datetime.fromisoformat(str(attrs["time:timestamp"]))
                events.append((at.astimezone(dt.UTC), len(events), attrs["concept:name"]))
        state, log, model, first = "", 0, 0, None
        for position, (_, _, activity) in enumerate(sorted(events), start=1):
            step = step_of.get(str(activity))
            if step is not None and (state, step) in allowed:
                state = step
                continue
            first = first or position
            if step is not None and (state, step) in skips:
                model, state = model + len(skips[(state, step)]), step
            else:
                log += 1
        if state in ends:  # every imported case is finished at its last event
            model += len(ends[state][2])
            first = first or len(events) + 1
        found.append((len(events), log, model, first))
    return sorted(found, key=lambda row: (row[0], row[1], row[2], row[3] or 0))


@pytest.mark.slow
@pytest.mark.skipif(not RECEIPT.exists(), reason="the shared receipt log is not there")
def test_the_receipt_log_against_its_main_path_agrees_with_a_plain_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = tmp_path / "processes"
    shutil.copytree(PROCESSES, library)
    receipt_version(library)
    monkeypatch.setenv("BOFLYT_PROCESSES_DIR", str(library))
    invoke("import", str(RECEIPT), "--name", "receipt", "--process", "receipt@v1", "--no-prefect")
    data = checked("imported:receipt", "receipt@v1", "--cases")
    expected = replayed_receipt()
    assert data["runs"] == len(expected) == 1434
    assert data["conforming"] == sum(1 for row in expected if row[3] is None)
    got = sorted(
        ((c["steps"], c["log_moves"], c["model_moves"], c["position"]) for c in data["cases"]),
        key=lambda row: (row[0], row[1], row[2], row[3] or 0),
    )
    assert got == expected
    fitness = [1 - (log + model) / (steps + model) for steps, log, model, _ in expected]
    assert data["mean_fitness"] == pytest.approx(sum(fitness) / len(fitness))
